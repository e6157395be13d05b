#!/usr/bin/env python3
"""Generates tests/data/malformed: one small GGUF file per bad-input class.

Every file is built from scratch, byte by byte, so the corpus is deterministic
(running this script twice gives identical files) and owes nothing to any
other parser. Each file breaks ONE rule of the bad-input checklist (docs/security.md)'s
checklist and is named after what is wrong. MANIFEST.tsv lists, per file, a
word or phrase that the one-line error of every tool must contain
(case-insensitive; "a|b" means a or b) and which tools must name it ("all";
"split" would exempt gguf-kvplan, which needs no such exemption since it opens
split models as one model).

valid/baseline.gguf is the well-formed file most cases are derived from; the
corpus test checks that every tool accepts it, so a tool that refuses
everything cannot pass.

Usage: scripts/make_malformed_corpus.py [OUTPUT_DIR]   (default tests/data/malformed)
"""
import os
import shutil
import struct
import sys

# Value types.
U8, I8, U16, I16, U32, I32, F32, BOOL, STR, ARR, U64, I64, F64 = range(13)
# ggml type ids used here.
T_F32, T_Q8_0 = 0, 8


class Gguf:
    """Appends GGUF fields; big-endian when asked (header, kv, infos)."""

    def __init__(self, big_endian=False):
        self.e = ">" if big_endian else "<"
        self.b = bytearray()

    def raw(self, data):
        self.b += data
        return self

    def u8(self, v):
        return self.raw(struct.pack(self.e + "B", v))

    def u16(self, v):
        return self.raw(struct.pack(self.e + "H", v))

    def u32(self, v):
        return self.raw(struct.pack(self.e + "I", v & 0xFFFFFFFF))

    def i32(self, v):
        return self.raw(struct.pack(self.e + "i", v))

    def u64(self, v):
        return self.raw(struct.pack(self.e + "Q", v & 0xFFFFFFFFFFFFFFFF))

    def string(self, s, length=None):
        data = s.encode() if isinstance(s, str) else s
        self.u64(len(data) if length is None else length)
        return self.raw(data)

    def header(self, n_tensors, n_kv, version=3, magic=b"GGUF"):
        return self.raw(magic).u32(version).u64(n_tensors).u64(n_kv)

    def kv_u32(self, key, v):
        return self.string(key).u32(U32).u32(v)

    def kv_str(self, key, v):
        return self.string(key).u32(STR).string(v)

    def tensor(self, name, ne, ggml_type, offset):
        self.string(name).u32(len(ne))
        for d in ne:
            self.u64(d)
        return self.u32(ggml_type).u64(offset)

    def pad(self, alignment=32):
        while len(self.b) % alignment:
            self.b.append(0)
        return self

    def zeros(self, n):
        self.b += bytes(n)
        return self


# The baseline model: enough llama metadata for gguf-kvplan, two tensors.
BASE_KV = [
    ("general.architecture", STR, "llama"),
    ("llama.block_count", U32, 2),
    ("llama.context_length", U32, 2048),
    ("llama.embedding_length", U32, 256),
    ("llama.attention.head_count", U32, 4),
    ("llama.attention.head_count_kv", U32, 2),
]
Q8_ROW = 2 * 34  # 64 elements of q8_0
TENSORS = [("token_embd.weight", [64, 4], T_Q8_0, 4 * Q8_ROW), ("output_norm.weight", [64], T_F32, 256)]


def data_bytes(size, seed):
    # Deterministic, valid data: q8_0 scales of 0x3c00 (1.0) and small quants
    # are fine; random-looking bytes are fine too (any q8_0 bytes decode).
    return bytes(((i * 131 + seed * 17) & 0x7F) for i in range(size))


def model(kv=None, tensors=None, big_endian=False, version=3, alignment=32, extra_kv=None,
          n_tensors=None, n_kv=None, data=True):
    """A full file: header, kv pairs, tensor infos, padding, data.

    `alignment` lays out the tensor offsets; the data section is padded to it
    only when `data` is true (with data=False the file ends after the infos).
    """
    kv = list(BASE_KV if kv is None else kv) + list(extra_kv or [])
    tensors = TENSORS if tensors is None else tensors
    g = Gguf(big_endian)
    g.header(len(tensors) if n_tensors is None else n_tensors, len(kv) if n_kv is None else n_kv,
             version)
    for item in kv:
        if callable(item):
            item(g)
            continue
        key, vtype, value = item
        g.string(key).u32(vtype)
        if vtype == STR:
            g.string(value)
        elif vtype == U32:
            g.u32(value)
        elif vtype == U16:
            g.u16(value)
        elif vtype == I32:
            g.i32(value)
        elif vtype == U64:
            g.u64(value)
        else:
            raise ValueError(vtype)
    offset = 0
    layout = []
    for t in tensors:
        if callable(t):
            t(g)
            continue
        name, ne, ttype, size = t[:4]
        off = t[4] if len(t) > 4 else offset
        g.tensor(name, ne, ttype, off)
        layout.append((off, size))
        offset = (max(offset, off + size) + alignment - 1) // alignment * alignment
    if data:
        g.pad(alignment)
        start = len(g.b)
        end = max([o + s for o, s in layout] + [0])
        end = (end + alignment - 1) // alignment * alignment
        g.raw(data_bytes(end, 1))
        assert len(g.b) == start + end
    return bytes(g.b)


def header_only(n_tensors, n_kv, version=3, big_endian=False):
    return bytes(Gguf(big_endian).header(n_tensors, n_kv, version).b)


def kv_case(writer):
    """A file whose only metadata pair is written by `writer(g)`, no tensors."""
    g = Gguf()
    g.header(0, 1)
    writer(g)
    return bytes(g.b)


def cases():
    c = {}  # name -> (bytes, expected phrase, tools)
    base = model()

    def add(name, data, expect, tools="all"):
        assert name not in c, name
        c[name] = (data, expect, tools)

    # --- header -----------------------------------------------------------
    add("empty_file", b"", "file ends")
    add("magic_wrong_ggml", b"GGML" + base[4:], "magic")
    add("magic_lowercase", b"gguf" + base[4:], "magic")
    add("magic_zero_bytes", bytes(4) + base[4:], "magic")
    add("magic_only", b"GGUF", "file ends")
    add("version_0", header_only(0, 0, version=0) + bytes(64), "version")
    add("version_1", header_only(0, 0, version=1) + bytes(64), "version 1")
    add("version_4", header_only(0, 0, version=4) + bytes(64), "version")
    add("version_0xffffffff", header_only(0, 0, version=0xFFFFFFFF) + bytes(64), "version")
    add("version_big_endian_4", header_only(0, 0, version=0x04000000) + bytes(64), "version")
    add("version_0x00030000_neither_endianness", header_only(0, 0, version=0x00030000) + bytes(64),
        "version")
    add("n_tensors_2p60", header_only(1 << 60, 0) + bytes(64), "tensor count")
    add("n_tensors_2p64_minus_1", header_only(2**64 - 1, 0) + bytes(64), "tensor count")
    add("n_kv_2p40", header_only(0, 1 << 40) + bytes(64), "metadata count")
    add("n_kv_2p64_minus_1", header_only(0, 2**64 - 1) + bytes(64), "metadata count")
    add("n_kv_plus_n_tensors_do_not_fit", header_only(2, 3) + bytes(80), "cannot fit")
    add("big_endian_n_kv_2p40", header_only(0, 1 << 40, big_endian=True) + bytes(64),
        "metadata count")

    # --- metadata keys and values ----------------------------------------
    add("key_length_2p63", kv_case(lambda g: g.string("k", length=1 << 63).u32(U8).u8(0)), "length")
    add("key_length_past_eof", kv_case(lambda g: g.string("key", length=200).u32(U8).u8(0)), "length")
    add("key_empty", model(extra_kv=[("", U32, 1)]), "empty key")
    add("key_duplicate", model(extra_kv=[("llama.block_count", U32, 3)]), "duplicate metadata key")
    add("value_type_13_unknown", kv_case(lambda g: g.string("k").u32(13).u32(0)), "unknown value type")
    add("value_type_0xffffffff", kv_case(lambda g: g.string("k").u32(0xFFFFFFFF).u32(0)),
        "unknown value type")
    add("bool_value_2", kv_case(lambda g: g.string("k").u32(BOOL).u8(2).zeros(8)), "bool")
    add("bool_value_0xff", kv_case(lambda g: g.string("k").u32(BOOL).u8(0xFF).zeros(8)), "bool")
    add("string_value_length_2p63",
        kv_case(lambda g: g.string("k").u32(STR).string("v", length=1 << 63)), "length")
    add("string_value_length_2p64_minus_1",
        kv_case(lambda g: g.string("k").u32(STR).string("v", length=2**64 - 1)), "length")
    add("string_value_past_eof", kv_case(lambda g: g.string("k").u32(STR).string("abc", length=64)),
        "length")
    add("array_u32_count_2p60", kv_case(lambda g: g.string("k").u32(ARR).u32(U32).u64(1 << 60).zeros(16)),
        "does not fit")
    add("array_u64_count_times_8_overflows",
        kv_case(lambda g: g.string("k").u32(ARR).u32(U64).u64((1 << 61) + 1).zeros(16)), "does not fit")
    add("array_u8_count_2p64_minus_1",
        kv_case(lambda g: g.string("k").u32(ARR).u32(U8).u64(2**64 - 1).zeros(16)), "does not fit")
    add("array_u8_past_eof", kv_case(lambda g: g.string("k").u32(ARR).u32(U8).u64(100).zeros(10)),
        "does not fit")
    add("array_of_arrays_nested",
        kv_case(lambda g: g.string("k").u32(ARR).u32(ARR).u64(1).u32(U8).u64(1).u8(0)), "arrays of arrays")
    add("array_of_arrays_deeply_nested",
        kv_case(lambda g: [g.string("k")] + [g.u32(ARR).u32(ARR).u64(1) for _ in range(200)]),
        "arrays of arrays")
    add("array_element_type_13_unknown",
        kv_case(lambda g: g.string("k").u32(ARR).u32(13).u64(1).u32(0)), "unknown array element type")
    add("array_string_count_2p60",
        kv_case(lambda g: g.string("k").u32(ARR).u32(STR).u64(1 << 60).zeros(16)), "strings cannot fit")
    add("array_string_element_length_2p63",
        kv_case(lambda g: g.string("k").u32(ARR).u32(STR).u64(2).string("a").string("b", length=1 << 63)),
        "length")
    add("array_bool_element_2",
        kv_case(lambda g: g.string("k").u32(ARR).u32(BOOL).u64(4).raw(bytes([0, 1, 2, 0]))), "bool element")

    # --- general.alignment ------------------------------------------------
    add("alignment_zero", model(extra_kv=[("general.alignment", U32, 0)]), "power of two")
    add("alignment_48_not_power_of_two", model(extra_kv=[("general.alignment", U32, 48)]),
        "power of two")
    add("alignment_2p31_absurd", model(extra_kv=[("general.alignment", U32, 1 << 31)]), "absurdly large")
    add("alignment_i32_wrong_type", model(extra_kv=[("general.alignment", I32, 32)]), "must be u32")
    add("alignment_u64_wrong_type", model(extra_kv=[("general.alignment", U64, 32)]), "must be u32")
    add("alignment_string_wrong_type", model(extra_kv=[("general.alignment", STR, "32")]), "must be u32")
    add("alignment_i32_negative_wrong_type", model(extra_kv=[("general.alignment", I32, -32)]),
        "must be u32")
    add("alignment_2p30_data_past_eof",
        model(extra_kv=[("general.alignment", U32, 1 << 30)], alignment=1 << 30, data=False)
        + data_bytes(4 * Q8_ROW + 256, 2), "past the end")

    # --- tensor infos -----------------------------------------------------
    def one_tensor(writer, data_size=64):
        g = Gguf()
        g.header(1, 0)
        writer(g)
        g.pad(32).zeros(data_size)
        return bytes(g.b)

    add("tensor_name_empty", one_tensor(lambda g: g.tensor("", [16], T_F32, 0)), "empty name")
    add("tensor_name_2000_chars", one_tensor(lambda g: g.tensor("n" * 2000, [16], T_F32, 0)),
        "exceeds the limit")
    add("tensor_name_length_2p62",
        one_tensor(lambda g: g.string("n", length=1 << 62).u32(1).u64(16).u32(T_F32).u64(0)), "length")
    add("tensor_name_duplicate",
        model(tensors=[("w", [64], T_F32, 256), ("w", [64], T_F32, 256)]), "duplicate tensor name")
    add("tensor_n_dims_0", one_tensor(lambda g: g.string("t").u32(0).u32(T_F32).u64(0)), "n_dims")
    add("tensor_n_dims_5", one_tensor(lambda g: g.tensor("t", [1, 1, 1, 1, 16], T_F32, 0)), "n_dims")
    add("tensor_n_dims_0xffffffff",
        one_tensor(lambda g: g.string("t").u32(0xFFFFFFFF).u64(16).u32(T_F32).u64(0)), "n_dims")
    add("tensor_dimension_zero", one_tensor(lambda g: g.tensor("t", [16, 0], T_F32, 0)), "dimension")
    add("tensor_dimension_negative", one_tensor(lambda g: g.tensor("t", [16, 2**64 - 1], T_F32, 0)),
        "dimension")
    add("tensor_element_count_overflows_64_bits",
        one_tensor(lambda g: g.tensor("t", [1 << 32, 1 << 32], T_F32, 0)), "overflows")
    add("tensor_byte_size_overflows_64_bits",
        one_tensor(lambda g: g.tensor("t", [1 << 61], T_F32, 0)), "overflows")
    add("tensor_2p60_elements_past_eof",
        one_tensor(lambda g: g.tensor("t", [1 << 30, 1 << 30], T_Q8_0, 0)), "past the end")
    add("tensor_type_99_unknown", one_tensor(lambda g: g.tensor("t", [16], 99, 0)), "unknown or removed")
    add("tensor_type_4_removed_q4_2", one_tensor(lambda g: g.tensor("t", [32], 4, 0)), "unknown or removed")
    add("tensor_type_36_removed", one_tensor(lambda g: g.tensor("t", [32], 36, 0)), "unknown or removed")
    add("tensor_type_0xffffffff", one_tensor(lambda g: g.tensor("t", [16], 0xFFFFFFFF, 0)),
        "unknown or removed")
    add("tensor_row_not_whole_q8_0_blocks", one_tensor(lambda g: g.tensor("t", [33], T_Q8_0, 0), 128),
        "block size")
    add("tensor_offset_misaligned", one_tensor(lambda g: g.tensor("t", [4], T_F32, 1)), "alignment")
    add("tensor_offset_past_eof", one_tensor(lambda g: g.tensor("t", [4], T_F32, 1 << 20)), "past the end")
    add("tensor_data_past_eof", one_tensor(lambda g: g.tensor("t", [64], T_F32, 0), 64), "past the end")
    add("tensor_offset_plus_size_overflows",
        one_tensor(lambda g: g.tensor("t", [64], T_F32, 2**64 - 32)), "overflows")
    add("tensors_overlap",
        model(tensors=[("a", [64], T_F32, 256, 0), ("b", [64], T_F32, 256, 128)]), "overlaps")
    add("tensors_same_offset",
        model(tensors=[("a", [64], T_F32, 256, 0), ("b", [64], T_F32, 256, 0)]), "overlaps")
    add("big_endian_tensor_past_eof",
        bytes(Gguf(True).header(1, 0).tensor("t", [64], T_F32, 0).pad(32).zeros(16).b), "past the end")
    add("big_endian_key_length_2p63",
        bytes(Gguf(True).header(0, 1).string("k", length=1 << 63).u32(U8).u8(0).b), "length")

    # --- truncation at each structure of the baseline ---------------------
    header_len = 24
    key0 = header_len  # u64 length of the first key
    first_key_len = len(BASE_KV[0][0])
    type0 = key0 + 8 + first_key_len
    value0 = type0 + 4
    infos = len(model(data=False)) - sum(8 + len(n) + 4 + 8 * len(ne) + 4 + 8 for n, ne, *_ in TENSORS)
    for name, cut in [("truncated_in_version", 6), ("truncated_in_tensor_count", 12),
                      ("truncated_in_metadata_count", 20), ("truncated_in_key_length", key0 + 3),
                      ("truncated_in_key", key0 + 8 + 5), ("truncated_in_value_type", type0 + 2),
                      ("truncated_in_string_value", value0 + 10), ("truncated_in_tensor_name", infos + 12),
                      ("truncated_in_tensor_dims", infos + 8 + 17 + 4 + 3),
                      ("truncated_before_data", len(model(data=False))),
                      ("truncated_in_tensor_data", len(base) - 100)]:
        # Which check fires first depends on where the cut is (a count that no
        # longer fits, a length past the end, a read that runs out): each of
        # them says the file is too short.
        add(name, base[:cut], "file ends|cannot fit|bytes remaining|past the end")
    return c


def split_cases():
    """(file name, bytes, expected phrase, tools): shard sets beside each other."""
    out = []

    def shard(no, count, total, tensors, extra=None, no_type=U16):
        kv = [("split.no", no_type, no), ("split.count", U16, count), ("split.tensors.count", I32, total)]
        if no == 0:
            kv = list(BASE_KV) + kv
        return model(kv=kv + list(extra or []), tensors=tensors)

    a = [("a", [64], T_F32, 256)]
    b = [("b", [64], T_F32, 256)]
    out.append(("split_missing_shard-00001-of-00002.gguf", shard(0, 2, 2, a), "missing", "all"))
    out.append(("split_count_3_name_says_2-00001-of-00002.gguf", shard(0, 3, 2, a), "shard", "all"))
    out.append(("split_no_1_name_says_1-00001-of-00002.gguf", shard(1, 2, 2, a), "shard", "all"))
    out.append(("split_count_zero-00001-of-00001.gguf", shard(0, 0, 1, a), "split.count", "all"))
    out.append(("split_no_out_of_range-00001-of-00002.gguf", shard(5, 2, 1, a), "split.no", "all"))
    out.append(("split_count_2_unnamed_shard.gguf", shard(0, 2, 2, a), "file name", "all"))
    out.append(("split_tensors_count_wrong-00001-of-00002.gguf", shard(0, 2, 5, a), "split.tensors.count",
                "all"))
    out.append(("split_tensors_count_wrong-00002-of-00002.gguf", shard(1, 2, 5, b), "split.tensors.count",
                "all"))
    out.append(("split_duplicate_tensor-00001-of-00002.gguf", shard(0, 2, 2, a), "appears in shard",
                "all"))
    out.append(("split_duplicate_tensor-00002-of-00002.gguf", shard(1, 2, 2, a), "appears in shard",
                "all"))
    out.append(("split_second_shard_corrupt-00001-of-00002.gguf", shard(0, 2, 2, a), "magic", "all"))
    out.append(("split_second_shard_corrupt-00002-of-00002.gguf", b"GGML" + shard(1, 2, 2, b)[4:],
                "magic", "all"))
    out.append(("split_count_string_wrong_type-00001-of-00002.gguf",
                model(kv=list(BASE_KV) + [("split.no", U16, 0), ("split.count", STR, "2"),
                                          ("split.tensors.count", I32, 2)], tensors=a), "split.count",
                "all"))
    return out


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "tests", "data", "malformed")
    # Replace what this script generates; keep fuzz_regressions/ (fuzzer
    # findings, added by hand).
    if os.path.isdir(out_dir):
        for name in os.listdir(out_dir):
            if name.endswith(".gguf") or name == "MANIFEST.tsv":
                os.remove(os.path.join(out_dir, name))
        shutil.rmtree(os.path.join(out_dir, "valid"), ignore_errors=True)
    os.makedirs(os.path.join(out_dir, "valid"))
    with open(os.path.join(out_dir, "valid", "baseline.gguf"), "wb") as f:
        f.write(model())
    rows = []
    for name, (data, expect, tools) in sorted(cases().items()):
        fname = name + ".gguf"
        with open(os.path.join(out_dir, fname), "wb") as f:
            f.write(data)
        rows.append((fname, tools, expect))
    for fname, data, expect, tools in split_cases():
        with open(os.path.join(out_dir, fname), "wb") as f:
            f.write(data)
        rows.append((fname, tools, expect))
    with open(os.path.join(out_dir, "MANIFEST.tsv"), "w") as f:
        f.write("# file\ttools that must name the problem\tphrase the one-line error contains"
                " (case-insensitive)\n# generated by scripts/make_malformed_corpus.py; do not edit\n")
        for row in rows:
            f.write("\t".join(row) + "\n")
    print(f"{len(rows)} malformed files in {out_dir}")


if __name__ == "__main__":
    main()
