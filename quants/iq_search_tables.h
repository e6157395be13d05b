// Internal: the search tables of the codebook quantizers (IQ1_S, IQ1_M,
// IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S), built once, lazily and
// thread-safely (function-local statics), from the grids in
// iq_tables_data.h.
//
// A quantizer rounds each element of a group (8 elements for IQ1/IQ2, 4 for
// IQ3) to a level l (0..2 for the 2-bit tables, 0..7 for the 3-bit ones) and
// packs the levels into a key, `bits` bits per element, element 0 lowest.
// The key either is a grid point (the table gives its index) or is not, and
// then the table gives the grid points nearest to it: every point whose
// squared distance (in positions 2l+1) is among the `nwant` smallest distinct
// distances, ordered by (distance, index). This is the neighbour structure of
// ggml's iq2xs_init_impl / iq3xs_init_impl, so that ties resolve alike; the
// lists of keys that no quantizer can form (a 2-bit field of 3) are not
// built.
//
// Sizes and build cost: docs/quants_extra.md ("IQ quantizer search tables").
#ifndef GGUFKIT_QUANTS_IQ_SEARCH_TABLES_H_
#define GGUFKIT_QUANTS_IQ_SEARCH_TABLES_H_

#include <cstdint>
#include <vector>

namespace ggufkit::internal {

struct IqSearchTable {
  int grid_size = 0;
  int dims = 0;   // elements per grid point: 8 or 4
  int bits = 0;   // bits per element in a key: 2 or 3
  int nwant = 0;  // distinct distances kept per neighbour list
  // positions[g * dims + i] = 2 * level + 1 of element i of grid point g.
  std::vector<int8_t> positions;
  // map[key] >= 0: the grid index of the key. < 0: the key's neighbour list
  // starts at neighbours[-map[key] - 1] (a count, then that many indices).
  // Keys no quantizer forms keep -1 (they would read the first list).
  std::vector<int32_t> map;
  std::vector<uint16_t> neighbours;

  // Grid index of `key`, or -1 when the key is off the grid.
  int GridIndex(uint32_t key) const { return map[key] >= 0 ? map[key] : -1; }
  // The neighbour list of an off-grid key: count at [0], indices after it.
  const uint16_t* Neighbours(uint32_t key) const { return neighbours.data() - map[key] - 1; }
  const int8_t* Position(int g) const { return positions.data() + g * dims; }
  // Bytes held by the three vectors.
  int64_t Bytes() const;
};

// One table per grid. IQ1_S and IQ1_M share a grid and a table.
const IqSearchTable& Iq2XxsSearchTable();
const IqSearchTable& Iq2XsSearchTable();
const IqSearchTable& Iq2SSearchTable();
const IqSearchTable& Iq1SearchTable();
const IqSearchTable& Iq3XxsSearchTable();
const IqSearchTable& Iq3SSearchTable();

}  // namespace ggufkit::internal

#endif  // GGUFKIT_QUANTS_IQ_SEARCH_TABLES_H_
