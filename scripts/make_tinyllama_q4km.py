#!/usr/bin/env python3
"""Writes a TinyLlama-1.1B-shaped Q4_K_M GGUF model with random but valid blocks.

Shape (TinyLlama-1.1B): 22 layers, hidden 2048, FFN 5632, 32 heads / 4 KV heads
(attn_k / attn_v are 2048 -> 256), vocab 32000. Types follow llama.cpp's
Q4_K_M rule (llama-quant.cpp): token_embd Q4_K, output Q6_K, norms F32, and
attn_v / ffn_down Q6_K in the layers `use_more_bits` selects -- the first
n_layer/8 layers, the last n_layer/8 (i >= 7*n_layer/8), and every third layer
in between ((i - n_layer/8) % 3 == 2) -- everything else Q4_K. About 667 MB.

The weights are random bytes with sane fp16 super-block scales (no NaN/Inf),
not a trained model: the point is the file's shape and the tool's speed.
Usage: make_tinyllama_q4km.py OUT.gguf [--layers N] [--seed S]
"""
import argparse
import sys

import numpy as np
import gguf

Q = gguf.GGMLQuantizationType
N_VOCAB, N_EMBD, N_FF, N_HEAD, N_HEAD_KV = 32000, 2048, 5632, 32, 4
N_KV = N_EMBD * N_HEAD_KV // N_HEAD  # 256


def use_more_bits(i_layer: int, n_layers: int) -> bool:
    return (i_layer < n_layers // 8 or i_layer >= 7 * n_layers // 8
            or (i_layer - n_layers // 8) % 3 == 2)


def random_fp16(rng, n, lo, hi):
    return rng.uniform(lo, hi, size=n).astype(np.float16).view(np.uint8).reshape(n, 2)


def q4_k_blocks(rng, n_blocks):
    # block_q4_K: f16 d, f16 dmin, u8 scales[12], u8 qs[128] = 144 bytes
    b = rng.integers(0, 256, size=(n_blocks, 144), dtype=np.uint8)
    b[:, 0:2] = random_fp16(rng, n_blocks, 1e-3, 2e-2)
    b[:, 2:4] = random_fp16(rng, n_blocks, 1e-3, 2e-2)
    return b


def q6_k_blocks(rng, n_blocks):
    # block_q6_K: u8 ql[128], u8 qh[64], i8 scales[16], f16 d = 210 bytes
    b = rng.integers(0, 256, size=(n_blocks, 210), dtype=np.uint8)
    b[:, 208:210] = random_fp16(rng, n_blocks, 1e-4, 2e-3)
    return b


def add_quant(writer, rng, name, qtype, ne0, ne1):
    block, size = gguf.GGML_QUANT_SIZES[qtype]
    n_blocks = ne0 // block * ne1
    blocks = q4_k_blocks(rng, n_blocks) if qtype == Q.Q4_K else q6_k_blocks(rng, n_blocks)
    writer.add_tensor(name, blocks.reshape(ne1, ne0 // block * size), raw_dtype=qtype)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--layers", type=int, default=22)
    ap.add_argument("--seed", type=int, default=1234)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    n_layer = args.layers

    w = gguf.GGUFWriter(args.out, "llama")
    w.add_name("TinyLlama-1.1B-shaped random Q4_K_M")
    w.add_context_length(2048)
    w.add_embedding_length(N_EMBD)
    w.add_block_count(n_layer)
    w.add_feed_forward_length(N_FF)
    w.add_rope_dimension_count(N_EMBD // N_HEAD)
    w.add_head_count(N_HEAD)
    w.add_head_count_kv(N_HEAD_KV)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_file_type(15)  # LLAMA_FTYPE_MOSTLY_Q4_K_M
    w.add_tokenizer_model("llama")
    w.add_token_list([f"<tok{i}>" for i in range(N_VOCAB)])
    w.add_token_scores([0.0] * N_VOCAB)
    w.add_token_types([1] * N_VOCAB)

    add_quant(w, rng, "token_embd.weight", Q.Q4_K, N_EMBD, N_VOCAB)
    for i in range(n_layer):
        p = f"blk.{i}."
        more = use_more_bits(i, n_layer)
        w.add_tensor(p + "attn_norm.weight", rng.normal(1, 0.1, N_EMBD).astype(np.float32))
        add_quant(w, rng, p + "attn_q.weight", Q.Q4_K, N_EMBD, N_EMBD)
        add_quant(w, rng, p + "attn_k.weight", Q.Q4_K, N_EMBD, N_KV)
        add_quant(w, rng, p + "attn_v.weight", Q.Q6_K if more else Q.Q4_K, N_EMBD, N_KV)
        add_quant(w, rng, p + "attn_output.weight", Q.Q4_K, N_EMBD, N_EMBD)
        w.add_tensor(p + "ffn_norm.weight", rng.normal(1, 0.1, N_EMBD).astype(np.float32))
        add_quant(w, rng, p + "ffn_gate.weight", Q.Q4_K, N_EMBD, N_FF)
        add_quant(w, rng, p + "ffn_up.weight", Q.Q4_K, N_EMBD, N_FF)
        add_quant(w, rng, p + "ffn_down.weight", Q.Q6_K if more else Q.Q4_K, N_FF, N_EMBD)
    w.add_tensor("output_norm.weight", rng.normal(1, 0.1, N_EMBD).astype(np.float32))
    add_quant(w, rng, "output.weight", Q.Q6_K, N_EMBD, N_VOCAB)

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
