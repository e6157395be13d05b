#include "ggufkit/quants/iq_search_tables.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "ggufkit/quants/iq_tables_data.h"

namespace ggufkit::internal {
namespace {

// Largest squared distance between a key and a grid point, + 1: positions
// differ by at most 14 (3-bit) over 4 elements, or by 6 over 8 (2-bit).
constexpr int kMaxDistance = 1024;

// Level (0..2) of element i of a 2-bit grid entry whose bytes are 8, 25, 43.
int Level2Bit(uint64_t entry, int i) {
  const uint8_t v = static_cast<uint8_t>(entry >> (8 * i));
  return v == 0x08 ? 0 : v == 0x19 ? 1 : 2;
}

// Builds a table from level_of(g, i), the level of element i of grid point g.
template <typename LevelOf>
IqSearchTable Build(int grid_size, int dims, int bits, int nwant, LevelOf level_of) {
  IqSearchTable t;
  t.grid_size = grid_size;
  t.dims = dims;
  t.bits = bits;
  t.nwant = nwant;
  t.positions.resize(static_cast<size_t>(grid_size) * dims);
  const int level_mask = (1 << bits) - 1;
  // ggml's map sizes: the largest key of levels 0..2 in 2-bit fields is
  // 43690; every 3-bit key of 4 elements is below 4096.
  const int map_size = bits == 2 ? 43692 : 4096;
  t.map.assign(map_size, -1);
  for (int g = 0; g < grid_size; ++g) {
    uint32_t key = 0;
    for (int i = 0; i < dims; ++i) {
      const int l = level_of(g, i);
      t.positions[static_cast<size_t>(g) * dims + i] = static_cast<int8_t>(2 * l + 1);
      key |= static_cast<uint32_t>(l) << (bits * i);
    }
    t.map[key] = g;
  }
  // Off-grid keys: the grid points at the nwant smallest distances.
  std::vector<int> d2(grid_size);
  std::array<int, kMaxDistance> seen{};
  int8_t pos[8];
  for (int key = 0; key < map_size; ++key) {
    if (t.map[key] >= 0) continue;
    bool reachable = true;
    for (int i = 0; i < dims; ++i) {
      const int l = (key >> (bits * i)) & level_mask;
      if (bits == 2 && l == 3) reachable = false;  // quantizers clamp levels to 0..2
      pos[i] = static_cast<int8_t>(2 * l + 1);
    }
    if (!reachable) continue;
    seen.fill(0);
    for (int g = 0; g < grid_size; ++g) {
      const int8_t* pg = t.positions.data() + static_cast<size_t>(g) * dims;
      int d = 0;
      for (int i = 0; i < dims; ++i) d += (pg[i] - pos[i]) * (pg[i] - pos[i]);
      d2[g] = d;
      seen[d] = 1;
    }
    const int32_t offset = static_cast<int32_t>(t.neighbours.size());
    t.neighbours.push_back(0);
    int count = 0;
    int kept = 0;
    for (int d = 0; d < kMaxDistance && kept < nwant; ++d) {
      if (!seen[d]) continue;
      ++kept;
      for (int g = 0; g < grid_size; ++g) {
        if (d2[g] != d) continue;
        t.neighbours.push_back(static_cast<uint16_t>(g));
        ++count;
      }
    }
    t.neighbours[offset] = static_cast<uint16_t>(count);
    t.map[key] = -(offset + 1);
  }
  return t;
}

IqSearchTable Build2Bit(const uint64_t* grid, int grid_size, int nwant) {
  return Build(grid_size, 8, 2, nwant, [grid](int g, int i) { return Level2Bit(grid[g], i); });
}

}  // namespace

int64_t IqSearchTable::Bytes() const {
  return static_cast<int64_t>(positions.size() * sizeof(int8_t) + map.size() * sizeof(int32_t) +
                              neighbours.size() * sizeof(uint16_t));
}

// The neighbour depths (nwant) are ggml's: 2 for IQ2_XXS / IQ2_XS / IQ3_XXS,
// 1 for IQ2_S, 3 for IQ1_S / IQ1_M and IQ3_S.
const IqSearchTable& Iq2XxsSearchTable() {
  static const IqSearchTable table = Build2Bit(kIq2XxsGrid, 256, 2);
  return table;
}

const IqSearchTable& Iq2XsSearchTable() {
  static const IqSearchTable table = Build2Bit(kIq2XsGrid, 512, 2);
  return table;
}

const IqSearchTable& Iq2SSearchTable() {
  static const IqSearchTable table = Build2Bit(kIq2SGrid, 1024, 1);
  return table;
}

const IqSearchTable& Iq1SearchTable() {
  // Grid values -1, 0, +1 are levels 0, 1, 2.
  static const IqSearchTable table = Build(2048, 8, 2, 3, [](int g, int i) {
    return static_cast<int>(static_cast<int8_t>(kIq1SGrid[g] >> (8 * i))) + 1;
  });
  return table;
}

const IqSearchTable& Iq3XxsSearchTable() {
  // Grid magnitudes 4, 12, 20, 28, 36, 44, 52, 62 are levels 0..7.
  static const IqSearchTable table = Build(256, 4, 3, 2, [](int g, int i) {
    const int v = static_cast<uint8_t>(kIq3XxsGrid[g] >> (8 * i));
    return v == 62 ? 7 : (v - 4) / 8;
  });
  return table;
}

const IqSearchTable& Iq3SSearchTable() {
  // Grid magnitudes 1, 3, ..., 15 are levels 0..7.
  static const IqSearchTable table = Build(512, 4, 3, 3, [](int g, int i) {
    return (static_cast<int>(static_cast<uint8_t>(kIq3SGrid[g] >> (8 * i))) - 1) / 2;
  });
  return table;
}

}  // namespace ggufkit::internal
