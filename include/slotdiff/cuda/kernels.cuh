// slotdiff/cuda/kernels.cuh: the CUDA kernels of the reference denoiser (include from a .cu file).
//
// Activations are packed rows (one fed token per row, no padding between sequences); the residual
// stream x is fp32, every matrix-product input bf16, every product accumulated in fp32 (cuBLAS).
// Each kernel reads the batch's true counts from device memory (`batch_counts`), so that a CUDA
// graph captured for a bucket of sizes replays for every batch in that bucket; rows between the
// true count and the bucket are written as zeros (or left alone where nothing reads them).
//
// The kernels are templates: a header-only library may be included by several translation units.
#pragma once

#ifndef SLOTDIFF_CUDA_EMULATION  // tests/cuda/emulation.hpp runs these kernels on CPU threads
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#define SLOTDIFF_DYNAMIC_SHARED(type, name) extern __shared__ type name[]
#endif

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "slotdiff/cuda/detail/math.hpp"
#include "slotdiff/cuda/plan.hpp"

namespace slotdiff::cuda::kernels {

using bf16 = __nv_bfloat16;

/// The true sizes of the batch in flight.
struct batch_counts {
  std::int32_t rows, slots, tiles, pad_;
};

inline constexpr unsigned full_mask = 0xffffffffu;

__device__ inline float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(full_mask, v, o);
  return v;
}
__device__ inline float warp_max(float v) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(full_mask, v, o));
  return v;
}

/// Sum or maximum over a block of `Threads` threads; `scratch` holds 32 floats of shared memory.
template <int Threads, bool Max>
__device__ float block_reduce(float v, float* scratch) {
  static_assert(Threads % 32 == 0 && Threads <= 1024);
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  v = Max ? warp_max(v) : warp_sum(v);
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  if (warp == 0) {
    v = lane < Threads / 32 ? scratch[lane] : (Max ? -INFINITY : 0.0f);
    v = Max ? warp_max(v) : warp_sum(v);
    if (lane == 0) scratch[0] = v;
  }
  __syncthreads();
  const float r = scratch[0];
  __syncthreads();
  return r;
}

/// The best (value, id) of a block under detail::better_candidate; `vs`, `is` hold 32 entries each.
template <int Threads>
__device__ void block_best(float& v, int& i, float* vs, int* is) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  for (int o = 16; o > 0; o >>= 1) {
    const float ov = __shfl_xor_sync(full_mask, v, o);
    const int oi = __shfl_xor_sync(full_mask, i, o);
    if (detail::better_candidate(ov, oi, v, i)) v = ov, i = oi;
  }
  if (lane == 0) vs[warp] = v, is[warp] = i;
  __syncthreads();
  if (warp == 0) {
    v = lane < Threads / 32 ? vs[lane] : NAN;
    i = lane < Threads / 32 ? is[lane] : 0x7fffffff;
    for (int o = 16; o > 0; o >>= 1) {
      const float ov = __shfl_xor_sync(full_mask, v, o);
      const int oi = __shfl_xor_sync(full_mask, i, o);
      if (detail::better_candidate(ov, oi, v, i)) v = ov, i = oi;
    }
    if (lane == 0) vs[0] = v, is[0] = i;
  }
  __syncthreads();
  v = vs[0], i = is[0];
  __syncthreads();
}

/// Up to this k the top-k is a radix select (four passes of 8-bit histograms, whatever k); above it,
/// k rounds of a block-wide argmax.
inline constexpr int radix_top_k_max = 256;

/// The k best of row[0, V) (ties: smaller id), written best first with their log-probabilities
/// (value - lse) at ids[0, k), logp[0, k). Radix select of the k-th best key (detail::order_key),
/// then every value above it plus, of those equal to it, as many as fit (the smallest ids when there
/// are more), ordered by counting the better candidates. Requires: k <= radix_top_k_max.
template <int Threads>
__device__ void radix_top_k(const float* row, int V, int k, float lse, std::int32_t* ids, float* logp) {
  __shared__ unsigned hist[256];
  __shared__ unsigned sel_prefix;
  __shared__ int sel_remaining, n_above, n_equal;
  __shared__ float cand_v[radix_top_k_max];
  __shared__ int cand_i[radix_top_k_max];
  unsigned prefix = 0, mask = 0;
  int remaining = k;  // how many of the keys matching `prefix` on its known digits are still to take
  for (int shift = 24; shift >= 0; shift -= 8) {
    for (int b = threadIdx.x; b < 256; b += Threads) hist[b] = 0;
    __syncthreads();
    for (int v = threadIdx.x; v < V; v += Threads) {
      const unsigned key = detail::order_key(row[v]);
      if ((key & mask) == prefix) atomicAdd(&hist[(key >> shift) & 255u], 1u);
    }
    __syncthreads();
    if (threadIdx.x == 0) {  // the digit where the k-th best falls, from the top
      int above = 0, d = 255;
      for (; d > 0 && above + static_cast<int>(hist[d]) < remaining; --d) above += static_cast<int>(hist[d]);
      sel_prefix = prefix | (static_cast<unsigned>(d) << shift);
      sel_remaining = remaining - above;
      n_above = n_equal = 0;
    }
    __syncthreads();
    prefix = sel_prefix;
    remaining = sel_remaining;
    mask |= 255u << shift;
  }
  // prefix is now the k-th best key: k - remaining keys lie above it, and `remaining` of those equal
  // to it are taken.
  for (int v = threadIdx.x; v < V; v += Threads) {
    const unsigned key = detail::order_key(row[v]);
    if (key > prefix) {
      const int at = atomicAdd(&n_above, 1);
      cand_v[at] = row[v], cand_i[at] = v;
    } else if (key == prefix) {
      atomicAdd(&n_equal, 1);
    }
  }
  __syncthreads();
  if (n_equal == remaining) {  // the usual case: every equal key fits
    for (int v = threadIdx.x; v < V; v += Threads)
      if (detail::order_key(row[v]) == prefix) {
        const int at = atomicAdd(&n_above, 1);
        cand_v[at] = row[v], cand_i[at] = v;
      }
  } else if (threadIdx.x == 0) {  // more equal keys than places: the smallest ids, in id order
    for (int v = 0, at = k - remaining; v < V && at < k; ++v)
      if (detail::order_key(row[v]) == prefix) cand_v[at] = row[v], cand_i[at++] = v;
  }
  __syncthreads();
  for (int i = threadIdx.x; i < k; i += Threads) {
    int place = 0;
    for (int j = 0; j < k; ++j) place += detail::better_candidate(cand_v[j], cand_i[j], cand_v[i], cand_i[i]);
    ids[place] = cand_i[i];
    logp[place] = cand_v[i] - lse;
  }
}

/// Up to this k the top-k takes slot_top_k_sweep (one read of each logit); above it, and for the
/// full log-probabilities, slot_softmax_top_k.
inline constexpr int sweep_top_k_max = 32;

/// Folds x into a running (max m, sum of exp(. - m)) pair (Milakov & Gimelshein 2018). -inf values
/// (never-inserted ids) add nothing; NaN is not expected (the weights are checked finite).
__device__ inline void online_lse_add(float x, float& m, float& sum) {
  if (x > m) {
    sum = sum * expf(m - x) + 1.0f;  // exp(-inf) = 0 while nothing was seen
    m = x;
  } else if (x > -INFINITY) {
    sum += expf(x - m);
  }
}

/// A float's bits as unsigned, or back (std::bit_cast is not a device function).
template <class To, class From>
__device__ inline To bit_cast_32(From x) {
  static_assert(sizeof(To) == 4 && sizeof(From) == 4);
#ifdef SLOTDIFF_CUDA_EMULATION
  To to;
  std::memcpy(&to, &x, 4);
  return to;
#else
  if constexpr (std::is_same_v<To, float>) return __uint_as_float(x);
  else return __float_as_uint(x);
#endif
}
__device__ inline unsigned float_bits(float x) { return bit_cast_32<unsigned>(x); }

/// A top-k candidate as one integer that orders like detail::better_candidate: the value's
/// order_key in the high half (-0 taken as +0, so that it ties with +0 as on the CPU), the bitwise
/// complement of the id in the low half (equal values: the smaller id is the larger key). 0 stands
/// for "no candidate" (below every real key); so does a NaN value (the weights are checked finite).
__device__ inline unsigned long long candidate_key(float x, int id) {
  if (x != x) return 0;
  return static_cast<unsigned long long>(detail::order_key(x + 0.0f)) << 32 | static_cast<unsigned>(~id);
}
__device__ inline int key_id(unsigned long long key) { return static_cast<int>(~static_cast<unsigned>(key)); }
__device__ inline float key_value(unsigned long long key) {
  const unsigned k = static_cast<unsigned>(key >> 32);
  return bit_cast_32<float>((k & 0x80000000u) ? (k & 0x7fffffffu) : ~k);
}
__device__ inline unsigned long long shfl_u64(unsigned long long v, int src) {
  const unsigned lo = __shfl_sync(full_mask, static_cast<unsigned>(v), src), hi = __shfl_sync(full_mask, static_cast<unsigned>(v >> 32), src);
  return static_cast<unsigned long long>(hi) << 32 | lo;
}
__device__ inline unsigned long long shfl_xor_u64(unsigned long long v, int mask) {
  const int lo = __shfl_xor_sync(full_mask, static_cast<int>(static_cast<unsigned>(v)), mask);
  const int hi = __shfl_xor_sync(full_mask, static_cast<int>(static_cast<unsigned>(v >> 32)), mask);
  return static_cast<unsigned long long>(static_cast<unsigned>(hi)) << 32 | static_cast<unsigned>(lo);
}
/// The warp's 32 keys (one per lane) sorted, largest in lane 0 (a bitonic network: 15 exchanges).
__device__ inline unsigned long long warp_sort_descending(unsigned long long key) {
  const int lane = static_cast<int>(threadIdx.x % 32);
  for (int size = 2; size <= 32; size <<= 1)
    for (int stride = size / 2; stride > 0; stride >>= 1) {
      const unsigned long long other = shfl_xor_u64(key, stride);
      // Blocks of `size` alternate direction (the last one, the whole warp, descending); in a
      // descending block the lower lane of a pair keeps the larger key.
      const bool keep_larger = ((lane & stride) == 0) == ((lane & size) == 0);
      key = keep_larger ? (key > other ? key : other) : (key < other ? key : other);
    }
  return key;
}
__device__ inline unsigned long long shfl_up_u64(unsigned long long v) {
  const int lo = __shfl_up_sync(full_mask, static_cast<int>(static_cast<unsigned>(v)), 1u);
  const int hi = __shfl_up_sync(full_mask, static_cast<int>(static_cast<unsigned>(v >> 32)), 1u);
  return static_cast<unsigned long long>(static_cast<unsigned>(hi)) << 32 | static_cast<unsigned>(lo);
}

/// One sweep per slot row of a logits slab (row blockIdx.x, slot s0 + blockIdx.x), k <= 32: each
/// logit is read once from global memory (the slab sits in L2 after the product). Warp w takes the
/// ids w 32 + lane, then Threads further on, and keeps
///   - per lane, a running maximum and sum of exponentials (online log-sum-exp);
///   - per warp, its k best candidates so far (candidate_key) as a list sorted best first, entry j
///     in lane j, begun by sorting the warp's first 32 keys (a bitonic network); then a ballot
///     finds the lanes whose key beats the bar; each such key is inserted at its place (a ballot
///     counts the entries better than it) and the entries after it move one lane up.
/// The bar is the best k-th entry of any warp's list (shared through an atomicMax in shared memory):
/// a key below another warp's k-th entry has k better keys in the row and cannot be in its top-k, so
/// most rows take about k ln(V / k) insertions in all rather than that per warp.
/// The warps' lists (each sorted) are then merged by rank: an entry's place in the row's top-k is
/// its index in its list plus, for every other list, how many of its entries are better (a binary
/// search); the row's top-k are all in some list, so every thread places one entry, with no sort.
/// Ties go to the smaller id, exactly as on the CPU. Writes ids[s k + j], logp[s k + j] = value -
/// lse for j < k. Requires: 1 <= k <= min(sweep_top_k_max, V). Cost: V loads and V expf per row;
/// per 32 logits and warp about 15 instructions when none beats the bar (a float compare and a
/// ballot decide), a 64-bit key per lane and ~20 instructions per insertion when some do.
template <int Threads>
__global__ void __launch_bounds__(Threads) slot_top_k_sweep(const batch_counts* counts, int s0, const float* __restrict__ logits, int V,
                                                            const unsigned char* __restrict__ never, int k, std::int32_t* ids,
                                                            float* logp) {
  static_assert(Threads % 32 == 0 && Threads <= 1024);
  constexpr int warps = Threads / 32, unroll = 4;
  const int s = s0 + static_cast<int>(blockIdx.x);
  if (s >= counts->slots) return;
  __shared__ unsigned long long list[warps][32];
  __shared__ unsigned long long bar;  // the best k-th entry of the warps' lists so far
  __shared__ float part_m[warps], part_sum[warps];
  const int lane = static_cast<int>(threadIdx.x % 32), warp = static_cast<int>(threadIdx.x / 32);
  if (threadIdx.x == 0) bar = 0;
  __syncthreads();
  const float* g = logits + static_cast<std::size_t>(blockIdx.x) * V;

  unsigned long long mine = 0;  // this lane's entry of the warp's list (0: empty)
  unsigned long long kth = 0;   // the list's k-th entry
  float m = -INFINITY, sum = 0.0f;
  {  // The warp's first 32 ids: sorted at once, they are the list to begin with (lanes >= k hold
     // extra entries that insertions push out; only lanes < k are ever read).
    const int v = warp * 32 + lane;
    const float x = v < V ? (never[v] ? -INFINITY : g[v]) : NAN;
    if (v < V) online_lse_add(x, m, sum);
    mine = warp_sort_descending(v < V ? candidate_key(x, v) : 0);
    kth = shfl_u64(mine, k - 1);
  }
  for (int base0 = warp * 32 + Threads; base0 < V; base0 += Threads * unroll) {
    float xs[unroll];
#pragma unroll
    for (int u = 0; u < unroll; ++u) {  // the loads first, so that several are in flight
      const int v = base0 + u * Threads + lane;
      xs[u] = v < V ? (never[v] ? -INFINITY : g[v]) : NAN;
    }
    unsigned long long shared_bar = 0;
    if (lane == 0) shared_bar = atomicMax(&bar, kth);  // publish this warp's k-th entry, read the others'
    shared_bar = shfl_u64(shared_bar, 0);
    // The bar as a float, for a one-instruction first filter: a key above the bar has a value at least
    // the bar's (equal values are settled on the keys below). No bar yet: everything but NaN passes.
    unsigned long long bar_key = kth > shared_bar ? kth : shared_bar;
    float bar_value = bar_key ? key_value(bar_key) : -INFINITY;
#pragma unroll
    for (int u = 0; u < unroll; ++u) {
      const int base = base0 + u * Threads;
      if (base >= V) break;  // the same for the whole warp
      const float x = xs[u];
      const int v = base + lane;
      if (v < V) online_lse_add(x, m, sum);
      unsigned want = __ballot_sync(full_mask, x >= bar_value);  // false for NaN (past V)
      if (!want) continue;  // the usual case once the lists fill
      const unsigned long long key = v < V ? candidate_key(x, v) : 0;
      while (want) {
        const int src = __ffs(static_cast<int>(want)) - 1;
        want &= want - 1;
        const unsigned long long c = shfl_u64(key, src);
        if (c <= bar_key) continue;  // not above the bar (an earlier insertion may have raised it)
        const int pos = __popc(__ballot_sync(full_mask, mine > c));
        const unsigned long long up = shfl_up_u64(mine);
        if (lane == pos) mine = c;
        else if (lane > pos) mine = up;
        kth = shfl_u64(mine, k - 1);
        if (kth > bar_key) bar_key = kth;
      }
      bar_value = bar_key ? key_value(bar_key) : -INFINITY;
    }
  }
  if (lane < k) list[warp][lane] = mine;
  const float wm = warp_max(m);
  const float ws = warp_sum(m > -INFINITY ? sum * expf(m - wm) : 0.0f);
  if (lane == 0) part_m[warp] = wm, part_sum[warp] = ws;
  __syncthreads();
  float M = -INFINITY, S = 0.0f;
  for (int w = 0; w < warps; ++w) M = fmaxf(M, part_m[w]);
  for (int w = 0; w < warps; ++w)
    if (part_m[w] > -INFINITY) S += part_sum[w] * expf(part_m[w] - M);
  const float lse = M + logf(S);
  for (int t = static_cast<int>(threadIdx.x); t < warps * k; t += Threads) {
    const int w = t / k, i = t % k;
    const unsigned long long c = list[w][i];
    if (c == 0) continue;  // an empty entry
    int rank = i;
    for (int o = 0; o < warps; ++o) {
      if (o == w) continue;
      int lo = 0, hi = k;  // the entries of list o better than c are a prefix of it
      while (lo < hi) {
        const int mid = (lo + hi) / 2;
        if (list[o][mid] > c) lo = mid + 1;
        else hi = mid;
      }
      rank += lo;
    }
    if (rank < k) {
      ids[static_cast<std::size_t>(s) * k + rank] = key_id(c);
      logp[static_cast<std::size_t>(s) * k + rank] = key_value(c) - lse;
    }
  }
}

/// One warp per row r < bucket_rows: out[r] = Out(x[r] * rsqrt(mean(x[r]^2) + eps) * gain), Out bf16
/// or fp32. Embed: first x[r] = embedding[ids[r]] (the fp32 table). Rows at or past counts->rows get
/// zeros in x and out, so that padding never carries anything forward.
template <bool Embed, class Out>
__global__ void rmsnorm_rows(const batch_counts* counts, const std::int32_t* ids, const float* embedding, float* x,
                             const float* gain, Out* out, int bucket_rows, int d, float eps) {
  const int row = static_cast<int>((blockIdx.x * blockDim.x + threadIdx.x) / 32), lane = threadIdx.x % 32;
  if (row >= bucket_rows) return;
  float* xr = x + static_cast<std::size_t>(row) * d;
  Out* o = out + static_cast<std::size_t>(row) * d;
  if (row >= counts->rows) {
    for (int j = lane; j < d; j += 32) xr[j] = 0.0f, o[j] = Out(0.0f);
    return;
  }
  if constexpr (Embed) {
    const float* e = embedding + static_cast<std::size_t>(ids[row]) * d;
    for (int j = lane; j < d; j += 32) xr[j] = e[j];
  }
  float ss = 0.0f;
  for (int j = lane; j < d; j += 32) ss += xr[j] * xr[j];  // each lane reads back only what it wrote
  const float inv = rsqrtf(warp_sum(ss) / static_cast<float>(d) + eps);
  for (int j = lane; j < d; j += 32) o[j] = Out(xr[j] * inv * gain[j]);
}

/// The fp32 value rounded to tf32 (10 mantissa bits; to nearest, ties away from zero: cvt.rna).
__device__ inline float tf32_round(float x) {
#ifdef SLOTDIFF_CUDA_EMULATION
  std::uint32_t u;
  std::memcpy(&u, &x, 4);
  if ((u & 0x7f800000u) != 0x7f800000u) u = (u + 0x1000u) & 0xffffe000u;
  std::memcpy(&x, &u, 4);
  return x;
#else
  unsigned r;
  asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(r) : "f"(x));
  return bit_cast_32<float>(r);
#endif
}
/// Row buckets up to this size take small_product (RMSNorm folded into the product, no cuBLAS) for
/// every product but the slot logits: at batch 1 that halves the kernels of a forward pass.
inline constexpr int small_rows_max = 64;

/// What small_product does with a result: store it, store gelu_tanh of it, or add it (fp32 out).
enum class small_epilogue { store, gelu, accumulate };

/// out[r, n] (op)= sum_{k in split} a[r, k] w[n, k] for the rows r < rows of a bucket (rows <=
/// small_rows_max; rows at or past counts->rows are taken as zeros), in fp32 arithmetic, for products
/// too small for cuBLAS to fill the GPU. One block of 256 threads per 32 output columns
/// (blockIdx.x) and per split of `k_split` of the K inputs (blockIdx.y; only with `accumulate`,
/// whose splits add into out with atomics); the chunks of 64 inputs of a and w pass through shared
/// memory, each thread owns one column and rows warp, warp + 8, ...
///   Norm: a[r, k] = x[r, k] rsqrt(mean_k x[r, k]^2 + eps) gain[k] (the reference model's RMSNorm of
///   the fp32 residual rows x: the norm kernel is folded into the product's prologue); otherwise a is
///   `in` itself (bf16 or fp32). w: [N, K] row-major, fp32 or bf16. out: [rows, N]. With an fp32
///   w, a and w are rounded to tf32 (as cuBLAS's TF32 product); with a bf16 w, a is rounded to bf16
///   (as the bf16 product's input): only the order of the sums differs from the large-batch path.
/// Requires: k_split a multiple of 64, gridDim.y = ceil(K / k_split), and gridDim.y == 1 unless Epi
/// is accumulate (a stored or GELU result needs the whole sum).
template <bool Norm, small_epilogue Epi, class In, class W, class Out>
__global__ void __launch_bounds__(256) small_product(const batch_counts* counts, const In* in, const float* gain, float eps, const W* w,
                                                     Out* out, int rows, int N, int K, int k_split) {
  constexpr int cols = 32, chunk = 64, warps = 8, per_thread = small_rows_max / warps;
  __shared__ float as[small_rows_max][chunk];    // a row's inputs are read by a whole warp at once: broadcast
  __shared__ float ws[cols][chunk + 1];          // +1: the 32 lanes read 32 rows of one column
  __shared__ float inv[small_rows_max];
  const int warp = static_cast<int>(threadIdx.x / 32), lane = static_cast<int>(threadIdx.x % 32);
  const int n0 = static_cast<int>(blockIdx.x) * cols, real = min(counts->rows, rows);
  const int k_begin = static_cast<int>(blockIdx.y) * k_split, k_end = min(K, k_begin + k_split);
  // The operands rounded as the large-batch path's products round them (TF32 where the weight is
  // fp32, bf16 otherwise), so that a sequence's results depend on its batch only through the order of
  // the sums.
  auto round_like_large = [](float v) {
    if constexpr (std::is_same_v<W, float>) return tf32_round(v);
    else return static_cast<float>(bf16(v));
  };
  if constexpr (Norm) {
    for (int r = warp; r < rows; r += warps) {
      float ss = 0.0f;
      if (r < real)
        for (int j = lane; j < K; j += 32) {
          const float v = static_cast<float>(in[static_cast<std::size_t>(r) * K + j]);
          ss += v * v;
        }
      ss = warp_sum(ss);
      if (lane == 0) inv[r] = rsqrtf(ss / static_cast<float>(K) + eps);
    }
  }
  float acc[per_thread];
#pragma unroll
  for (int i = 0; i < per_thread; ++i) acc[i] = 0.0f;
  for (int k0 = k_begin; k0 < k_end; k0 += chunk) {
    __syncthreads();  // the norms are in place; the previous chunk is consumed
    for (int idx = static_cast<int>(threadIdx.x); idx < rows * chunk; idx += warps * 32) {
      const int r = idx / chunk, kk = idx % chunk, k = k0 + kk;
      float v = 0.0f;
      if (r < real && k < k_end) {
        v = static_cast<float>(in[static_cast<std::size_t>(r) * K + k]);
        if constexpr (Norm) v *= inv[r] * gain[k];
      }
      as[r][kk] = round_like_large(v);
    }
    for (int idx = static_cast<int>(threadIdx.x); idx < cols * chunk; idx += warps * 32) {
      const int c = idx / chunk, kk = idx % chunk, n = n0 + c, k = k0 + kk;
      ws[c][kk] = n < N && k < k_end ? round_like_large(static_cast<float>(w[static_cast<std::size_t>(n) * K + k])) : 0.0f;
    }
    __syncthreads();
#pragma unroll 8
    for (int kk = 0; kk < chunk; ++kk) {
      const float b = ws[lane][kk];
#pragma unroll
      for (int i = 0; i < per_thread; ++i)
        if (warp + i * warps < rows) acc[i] += as[warp + i * warps][kk] * b;
    }
  }
  const int n = n0 + lane;
  if (n >= N) return;
#pragma unroll
  for (int i = 0; i < per_thread; ++i) {
    const int r = warp + i * warps;
    if (r >= rows) break;
    Out* o = out + static_cast<std::size_t>(r) * N + n;
    if constexpr (Epi == small_epilogue::accumulate) atomicAdd(o, acc[i]);
    else if constexpr (Epi == small_epilogue::gelu) *o = Out(detail::gelu_tanh(acc[i]));
    else *o = Out(acc[i]);
  }
}

/// Rotary embedding, rotate-half pairs (j, j + half), at position `pos`.
__device__ inline void rope_pair(float x1, float x2, const float* cos_t, const float* sin_t, int pos, int half, int j, float& a,
                                 float& b) {
  const float c = cos_t[pos * half + j], s = sin_t[pos * half + j];
  a = x1 * c - x2 * s;
  b = x2 * c + x1 * s;
}

/// Dims j and j + half of position `pos` of tile t, in the block of qkv's row (3d floats) that starts
/// at `column` (head * HeadDim for a query, d + head * HeadDim for a key), rotated by RoPE; zeros
/// past the sequence's end (padding keys and queries).
__device__ inline void rope_load(const float* qkv, const attention_tile_desc& t, int pos, int d, int column, const float* cos_t,
                                 const float* sin_t, int half, int j, float& a, float& b) {
  a = b = 0.0f;
  if (pos >= t.length) return;
  const float* row = qkv + static_cast<std::size_t>(t.start + pos) * (3 * d) + column;
  rope_pair(row[j], row[j + half], cos_t, sin_t, pos, half, j, a, b);
}

/// One thread's share of a key tile: key row `kk` of the tile (key k0 + kk), dims j and j + half of its
/// RoPE-rotated key (a, b) and of its value (v1, v2); zeros past the sequence's end.
struct key_value_pairs {
  int kk, j;
  float a, b, v1, v2;
};

/// The pairs of work item `idx` (kk = idx / half, j = idx % half) of the key tile that starts at key
/// k0, for the head whose q block starts at `head_column` of qkv's row.
__device__ inline key_value_pairs key_value_load(const float* qkv, const attention_tile_desc& t, int k0, int idx, int d, int head_column,
                                                 const float* cos_t, const float* sin_t, int half) {
  key_value_pairs p{idx / half, idx % half, 0.0f, 0.0f, 0.0f, 0.0f};
  const int key = k0 + p.kk;
  rope_load(qkv, t, key, d, d + head_column, cos_t, sin_t, half, p.j, p.a, p.b);
  if (key >= t.length) return p;
  const float* v = qkv + static_cast<std::size_t>(t.start + key) * (3 * d) + 2 * d + head_column;
  p.v1 = v[p.j];
  p.v2 = v[p.j + half];
  return p;
}

/// RoPE + bidirectional attention for one tile of `attention_tile` queries of one sequence and one
/// head (blockIdx.y), plain fp32 arithmetic (no tensor cores): the queries in groups of 16, each in
/// one pass over the sequence's keys in tiles of 64 (online softmax). 128 threads: each warp owns 4
/// queries of a group; a lane scores keys lane and lane + 32 of a tile and owns output dims 2 lane,
/// 2 lane + 1. qkv: fp32 [rows, 3d] (q | k | v); att: bf16 [rows, d]. The reference for
/// rope_attention_mma, and the path taken with gpu_reference_options::mma_attention off.
template <int HeadDim>
__global__ void __launch_bounds__(128) rope_attention(const batch_counts* counts, const attention_tile_desc* tiles, const float* qkv,
                                                      const float* cos_t, const float* sin_t, bf16* att, int d, float scale) {
  static_assert(HeadDim == 64, "one lane owns two output dims");
  constexpr int queries = 16, keys = 64, half = HeadDim / 2, warps = 4, per_warp = queries / warps;
  static_assert(queries % warps == 0 && static_cast<int>(attention_tile) % queries == 0);
  if (static_cast<int>(blockIdx.x) >= counts->tiles) return;
  const attention_tile_desc tile = tiles[blockIdx.x];
  const int head = static_cast<int>(blockIdx.y);
  __shared__ float qs[queries][HeadDim];
  __shared__ float ks[keys][HeadDim + 1];  // +1: lanes reading one column of 32 rows hit 32 banks
  __shared__ float vs[keys][HeadDim];

  for (int group = 0; group < static_cast<int>(attention_tile) / queries; ++group) {
  attention_tile_desc t = tile;
  t.q0 = tile.q0 + group * queries;
  if (t.q0 >= t.length) break;  // the same for the whole block
  __syncthreads();              // the previous group is done with qs
  for (int idx = threadIdx.x; idx < queries * half; idx += blockDim.x) {
    const int i = idx / half, j = idx % half;
    float a, b;
    rope_load(qkv, t, t.q0 + i, d, head * HeadDim, cos_t, sin_t, half, j, a, b);
    qs[i][j] = a;
    qs[i][j + half] = b;
  }

  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  detail::online_softmax state[per_warp];
  float acc0[per_warp], acc1[per_warp];
#pragma unroll
  for (int qq = 0; qq < per_warp; ++qq) acc0[qq] = acc1[qq] = 0.0f;

  for (int k0 = 0; k0 < t.length; k0 += keys) {
    __syncthreads();  // the queries are in place; the previous key tile is consumed
    for (int idx = threadIdx.x; idx < keys * half; idx += blockDim.x) {
      const key_value_pairs p = key_value_load(qkv, t, k0, idx, d, head * HeadDim, cos_t, sin_t, half);
      ks[p.kk][p.j] = p.a;
      ks[p.kk][p.j + half] = p.b;
      vs[p.kk][p.j] = p.v1;
      vs[p.kk][p.j + half] = p.v2;
    }
    __syncthreads();
    const int n = min(keys, t.length - k0);
#pragma unroll
    for (int qq = 0; qq < per_warp; ++qq) {
      const int i = warp * per_warp + qq;
      if (t.q0 + i >= t.length) continue;  // the same for the whole warp
      float s0 = -INFINITY, s1 = -INFINITY;
      if (lane < n) {
        float s = 0.0f;
#pragma unroll 16
        for (int j = 0; j < HeadDim; ++j) s += qs[i][j] * ks[lane][j];
        s0 = s * scale;
      }
      if (lane + 32 < n) {
        float s = 0.0f;
#pragma unroll 16
        for (int j = 0; j < HeadDim; ++j) s += qs[i][j] * ks[lane + 32][j];
        s1 = s * scale;
      }
      const float factor = state[qq].rescale(warp_max(fmaxf(s0, s1)));
      const float p0 = lane < n ? state[qq].weight(s0) : 0.0f;
      const float p1 = lane + 32 < n ? state[qq].weight(s1) : 0.0f;
      state[qq].add(warp_sum(p0 + p1));
      float a0 = acc0[qq] * factor, a1 = acc1[qq] * factor;
      for (int kk = 0; kk < n; ++kk) {
        const float p = __shfl_sync(full_mask, kk < 32 ? p0 : p1, kk & 31);
        a0 += p * vs[kk][2 * lane];
        a1 += p * vs[kk][2 * lane + 1];
      }
      acc0[qq] = a0;
      acc1[qq] = a1;
    }
  }
#pragma unroll
  for (int qq = 0; qq < per_warp; ++qq) {
    const int q = t.q0 + warp * per_warp + qq;
    if (q >= t.length) continue;
    bf16* o = att + static_cast<std::size_t>(t.start + q) * d + head * HeadDim;
    const float inv = 1.0f / state[qq].l;
    o[2 * lane] = __float2bfloat16(acc0[qq] * inv);
    o[2 * lane + 1] = __float2bfloat16(acc1[qq] * inv);
  }
  }
}

/// Two floats as a bf16 pair in one register, `lo` in the low half (round to nearest even).
__device__ inline unsigned pack_bf16x2(float lo, float hi) {
#ifdef SLOTDIFF_CUDA_EMULATION
  return static_cast<unsigned>(bf16(hi).bits) << 16 | bf16(lo).bits;
#else
  const __nv_bfloat162 h = __floats2bfloat162_rn(lo, hi);
  return *reinterpret_cast<const unsigned*>(&h);
#endif
}
/// Two adjacent bf16 (the first at an even index) as one register.
__device__ inline unsigned load_bf16x2(const bf16* p) {
#ifdef SLOTDIFF_CUDA_EMULATION
  unsigned u;
  std::memcpy(&u, p, 4);
  return u;
#else
  return *reinterpret_cast<const unsigned*>(p);
#endif
}
/// The two warp-wide mma.sync shapes the attention kernel uses (sm_80+), both d (16 x 8, fp32) +=
/// a b with fragments as in the PTX ISA, lane = 4 g + t; d = {(g, 2t), (g, 2t + 1), (g + 8, 2t),
/// (g + 8, 2t + 1)}:
///   - tf32_m16n8k8: a (16 x 8) b (8 x 8), tf32 operands (fp32 bits, low 13 bits ignored);
///     a = {(g, t), (g + 8, t), (g, t + 4), (g + 8, t + 4)}, b = {(t, g), (t + 4, g)};
///   - bf16_m16n8k16: a (16 x 16) b (16 x 8), bf16 pairs; a = {(g, 2t..2t+1), (g + 8, 2t..),
///     (g, 2t + 8..), (g + 8, 2t + 8..)}, b = {(2t..2t+1, g), (2t + 8..2t + 9, g)}.
enum class mma_shape { tf32_m16n8k8, bf16_m16n8k16 };

// One PTX statement for both shapes: an asm string must be a literal, so the instruction's shape
// and types are spliced in by the preprocessor.
#define SLOTDIFF_MMA_SYNC(SHAPE_TYPES)                                                                               \
  asm volatile("mma.sync.aligned." SHAPE_TYPES " {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"            \
               : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])                                                     \
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]))

template <mma_shape Shape>
__device__ inline void mma_16x8(float (&d)[4], const unsigned (&a)[4], const unsigned (&b)[2]) {
#ifdef SLOTDIFF_CUDA_EMULATION
  if constexpr (Shape == mma_shape::tf32_m16n8k8) emu::mma_tf32_16x8x8(d, a, b);
  else emu::mma_bf16_16x8x16(d, a, b);
#else
  if constexpr (Shape == mma_shape::tf32_m16n8k8) SLOTDIFF_MMA_SYNC("m16n8k8.row.col.f32.tf32.tf32.f32");
  else SLOTDIFF_MMA_SYNC("m16n8k16.row.col.f32.bf16.bf16.f32");
#endif
}
#undef SLOTDIFF_MMA_SYNC

/// d += a b, tf32 operands, m16n8k8 (see mma_shape).
__device__ inline void mma_tf32_16x8x8(float (&d)[4], const unsigned (&a)[4], const unsigned (&b)[2]) {
  mma_16x8<mma_shape::tf32_m16n8k8>(d, a, b);
}
/// d += a b, bf16 pairs, m16n8k16 (see mma_shape).
__device__ inline void mma_bf16_16x8x16(float (&d)[4], const unsigned (&a)[4], const unsigned (&b)[2]) {
  mma_16x8<mma_shape::bf16_m16n8k16>(d, a, b);
}

/// RoPE + bidirectional attention on the tensor cores, flash-attention-2 style (Dao 2023): one block
/// of 4 warps per (tile of attention_tile = 64 queries, head); warp w owns queries 16 w .. 16 w + 15
/// of the tile and keeps their scores, running maxima and sums and outputs in registers; key tiles of
/// 64 (RoPE applied as they are loaded) are shared by the 4 warps in shared memory.
///   - scores q k^T: mma m16n8k8 in tf32 (q and k rounded to 10 mantissa bits, as the TF32 q/k/v
///     product that made them: bf16 here would cost the parity bound, docs/cuda.md "Precision");
///   - online softmax per row in fp32 (the row's 4 lanes exchange maxima by shuffles);
///   - p v: mma m16n8k16 in bf16 (p in [0, 1] and v rounded to bf16), fp32 accumulation; the score
///     fragments are the p operand's fragments, register for register.
/// Same inputs, outputs and padding behaviour as rope_attention. Shared memory: 44 KB.
template <int HeadDim>
__global__ void __launch_bounds__(128) rope_attention_mma(const batch_counts* counts, const attention_tile_desc* tiles, const float* qkv,
                                                          const float* cos_t, const float* sin_t, bf16* att, int d, float scale) {
  static_assert(HeadDim == 64, "8 k-steps of tf32, 8 column tiles of the output");
  constexpr int queries = static_cast<int>(attention_tile), keys = 64, half = HeadDim / 2, ld_f = HeadDim + 4, ld_v = keys + 8;
  static_assert(queries == 64, "4 warps of 16 query rows");
  if (static_cast<int>(blockIdx.x) >= counts->tiles) return;
  const attention_tile_desc t = tiles[blockIdx.x];
  const int head = static_cast<int>(blockIdx.y);
  // Rows padded by 4 floats / 8 bf16: the fragment reads of a warp (rows g, columns t) hit 32 banks.
  __shared__ float qs[queries][ld_f];
  __shared__ float ks[keys][ld_f];
  __shared__ bf16 vt[HeadDim][ld_v];  // v transposed: the p v product reads pairs of keys per dim

  for (int idx = threadIdx.x; idx < queries * half; idx += blockDim.x) {
    const int i = idx / half, j = idx % half;
    float a, b;
    rope_load(qkv, t, t.q0 + i, d, head * HeadDim, cos_t, sin_t, half, j, a, b);
    qs[i][j] = tf32_round(a * scale);  // scale = 1/8 for head dim 64: exact
    qs[i][j + half] = tf32_round(b * scale);
  }
  __syncthreads();
  const int warp = static_cast<int>(threadIdx.x / 32), lane = static_cast<int>(threadIdx.x % 32), g = lane / 4, tq = lane % 4;
  const int r0 = warp * 16 + g;  // this lane's rows of the tile: r0 and r0 + 8
  const bool active = t.q0 + warp * 16 < t.length;  // the same for the whole warp
  unsigned qa[HeadDim / 8][4];
#pragma unroll
  for (int ks8 = 0; ks8 < HeadDim / 8; ++ks8) {
    qa[ks8][0] = float_bits(qs[r0][ks8 * 8 + tq]);
    qa[ks8][1] = float_bits(qs[r0 + 8][ks8 * 8 + tq]);
    qa[ks8][2] = float_bits(qs[r0][ks8 * 8 + tq + 4]);
    qa[ks8][3] = float_bits(qs[r0 + 8][ks8 * 8 + tq + 4]);
  }
  float o[HeadDim / 8][4];
#pragma unroll
  for (int n = 0; n < HeadDim / 8; ++n) o[n][0] = o[n][1] = o[n][2] = o[n][3] = 0.0f;
  float m0 = -INFINITY, m1 = -INFINITY, l0 = 0.0f, l1 = 0.0f;  // rows r0, r0 + 8 (l: this lane's part)

  for (int k0 = 0; k0 < t.length; k0 += keys) {
    __syncthreads();  // the previous key tile is consumed
    for (int idx = threadIdx.x; idx < keys * half; idx += blockDim.x) {
      const key_value_pairs p = key_value_load(qkv, t, k0, idx, d, head * HeadDim, cos_t, sin_t, half);
      ks[p.kk][p.j] = tf32_round(p.a);
      ks[p.kk][p.j + half] = tf32_round(p.b);
      vt[p.j][p.kk] = __float2bfloat16(p.v1);
      vt[p.j + half][p.kk] = __float2bfloat16(p.v2);
    }
    __syncthreads();
    if (!active) continue;
    float sc[keys / 8][4];
#pragma unroll
    for (int n = 0; n < keys / 8; ++n) {
      sc[n][0] = sc[n][1] = sc[n][2] = sc[n][3] = 0.0f;
#pragma unroll
      for (int ks8 = 0; ks8 < HeadDim / 8; ++ks8) {
        const unsigned b[2] = {float_bits(ks[n * 8 + g][ks8 * 8 + tq]), float_bits(ks[n * 8 + g][ks8 * 8 + tq + 4])};
        mma_tf32_16x8x8(sc[n], qa[ks8], b);
      }
    }
    float mx0 = -INFINITY, mx1 = -INFINITY;
#pragma unroll
    for (int n = 0; n < keys / 8; ++n) {
      const int key = k0 + n * 8 + 2 * tq;
      if (key >= t.length) sc[n][0] = sc[n][2] = -INFINITY;
      if (key + 1 >= t.length) sc[n][1] = sc[n][3] = -INFINITY;
      mx0 = fmaxf(mx0, fmaxf(sc[n][0], sc[n][1]));
      mx1 = fmaxf(mx1, fmaxf(sc[n][2], sc[n][3]));
    }
    // A row's 64 scores lie in the 4 lanes of its quad.
    mx0 = fmaxf(mx0, __shfl_xor_sync(full_mask, mx0, 1));
    mx0 = fmaxf(mx0, __shfl_xor_sync(full_mask, mx0, 2));
    mx1 = fmaxf(mx1, __shfl_xor_sync(full_mask, mx1, 1));
    mx1 = fmaxf(mx1, __shfl_xor_sync(full_mask, mx1, 2));
    const float n0 = fmaxf(m0, mx0), n1 = fmaxf(m1, mx1);  // finite: every key tile holds a real key
    const float f0 = expf(m0 - n0), f1 = expf(m1 - n1);
    m0 = n0, m1 = n1;
    l0 *= f0, l1 *= f1;
#pragma unroll
    for (int n = 0; n < HeadDim / 8; ++n) o[n][0] *= f0, o[n][1] *= f0, o[n][2] *= f1, o[n][3] *= f1;
#pragma unroll
    for (int n = 0; n < keys / 8; ++n) {
      sc[n][0] = expf(sc[n][0] - m0), sc[n][1] = expf(sc[n][1] - m0);
      sc[n][2] = expf(sc[n][2] - m1), sc[n][3] = expf(sc[n][3] - m1);
      l0 += sc[n][0] + sc[n][1];
      l1 += sc[n][2] + sc[n][3];
    }
#pragma unroll
    for (int kk = 0; kk < keys / 16; ++kk) {  // 16 keys per step: score tiles 2 kk and 2 kk + 1
      const unsigned pa[4] = {pack_bf16x2(sc[2 * kk][0], sc[2 * kk][1]), pack_bf16x2(sc[2 * kk][2], sc[2 * kk][3]),
                              pack_bf16x2(sc[2 * kk + 1][0], sc[2 * kk + 1][1]), pack_bf16x2(sc[2 * kk + 1][2], sc[2 * kk + 1][3])};
#pragma unroll
      for (int n = 0; n < HeadDim / 8; ++n) {
        const unsigned b[2] = {load_bf16x2(&vt[n * 8 + g][kk * 16 + 2 * tq]), load_bf16x2(&vt[n * 8 + g][kk * 16 + 8 + 2 * tq])};
        mma_bf16_16x8x16(o[n], pa, b);
      }
    }
  }
  if (!active) return;
  l0 += __shfl_xor_sync(full_mask, l0, 1);
  l0 += __shfl_xor_sync(full_mask, l0, 2);
  l1 += __shfl_xor_sync(full_mask, l1, 1);
  l1 += __shfl_xor_sync(full_mask, l1, 2);
  const float i0 = 1.0f / l0, i1 = 1.0f / l1;
  const int q0 = t.q0 + r0, q1 = q0 + 8;
#pragma unroll
  for (int n = 0; n < HeadDim / 8; ++n) {
    const int col = head * HeadDim + n * 8 + 2 * tq;
    if (q0 < t.length) {
      bf16* out = att + static_cast<std::size_t>(t.start + q0) * d + col;
      out[0] = __float2bfloat16(o[n][0] * i0);
      out[1] = __float2bfloat16(o[n][1] * i0);
    }
    if (q1 < t.length) {
      bf16* out = att + static_cast<std::size_t>(t.start + q1) * d + col;
      out[0] = __float2bfloat16(o[n][2] * i1);
      out[1] = __float2bfloat16(o[n][3] * i1);
    }
  }
}

/// out[i] = bf16(gelu_tanh(in[i])) for i < n (the MLP's activation between its two products).
template <int = 0>
__global__ void gelu_to_bf16(const float* in, bf16* out, std::size_t n) {
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n; i += stride)
    out[i] = __float2bfloat16(detail::gelu_tanh(in[i]));
}

/// One warp per slot s < bucket_slots: u[s] = queries[slot_rows[s]] (bf16 rows of d, d % 8 == 0),
/// zeros past counts->slots.
template <int = 0>
__global__ void gather_slot_queries(const batch_counts* counts, const std::int32_t* slot_rows, const bf16* queries, bf16* u,
                                    int bucket_slots, int d) {
  const int s = static_cast<int>((blockIdx.x * blockDim.x + threadIdx.x) / 32), lane = threadIdx.x % 32;
  if (s >= bucket_slots) return;
  const int chunks = d / 8;  // 16 bytes each
  uint4* to = reinterpret_cast<uint4*>(u + static_cast<std::size_t>(s) * d);
  if (s >= counts->slots) {
    for (int c = lane; c < chunks; c += 32) to[c] = make_uint4(0, 0, 0, 0);
    return;
  }
  const uint4* from = reinterpret_cast<const uint4*>(queries + static_cast<std::size_t>(slot_rows[s]) * d);
  for (int c = lane; c < chunks; c += 32) to[c] = from[c];
}

/// One block per slot row of a logits slab (rows s0 + blockIdx.x): masks the never-inserted ids,
/// takes the log-sum-exp, then either writes the log-probabilities back over the logits (k == 0) or
/// picks the k best ids (ties: smaller id; radix_top_k up to radix_top_k_max, else k argmax rounds)
/// and writes them with their log-probabilities at ids[s k .. s k + k), logp[...]. The row sits in
/// shared memory (V floats, dynamic).
template <int Threads>
__global__ void __launch_bounds__(Threads) slot_softmax_top_k(const batch_counts* counts, int s0, float* logits, int V,
                                                              const unsigned char* never, int k, std::int32_t* ids, float* logp) {
  const int s = s0 + static_cast<int>(blockIdx.x);
  if (s >= counts->slots) return;
  SLOTDIFF_DYNAMIC_SHARED(float, row);  // V floats
  __shared__ float scratch[32];
  __shared__ int iscratch[32];
  float* g = logits + static_cast<std::size_t>(blockIdx.x) * V;
  float m = -INFINITY;
  for (int v = threadIdx.x; v < V; v += Threads) {
    const float x = never[v] ? -INFINITY : g[v];
    row[v] = x;
    m = fmaxf(m, x);
  }
  m = block_reduce<Threads, true>(m, scratch);
  float sum = 0.0f;
  for (int v = threadIdx.x; v < V; v += Threads) sum += expf(row[v] - m);
  const float lse = m + logf(block_reduce<Threads, false>(sum, scratch));
  if (k == 0) {
    for (int v = threadIdx.x; v < V; v += Threads) g[v] = row[v] - lse;
    return;
  }
  if (k <= radix_top_k_max) {
    radix_top_k<Threads>(row, V, k, lse, ids + static_cast<std::size_t>(s) * k, logp + static_cast<std::size_t>(s) * k);
    return;
  }
  for (int r = 0; r < k; ++r) {
    float bv = NAN;
    int bi = 0x7fffffff;
    for (int v = threadIdx.x; v < V; v += Threads)
      if (detail::better_candidate(row[v], v, bv, bi)) bv = row[v], bi = v;
    block_best<Threads>(bv, bi, scratch, iscratch);
    if (threadIdx.x == 0) {
      const bool found = bi < V;  // false only if every remaining value were NaN (weights are checked finite)
      ids[static_cast<std::size_t>(s) * k + r] = found ? bi : -1;
      logp[static_cast<std::size_t>(s) * k + r] = bv - lse;
      if (found) row[bi] = NAN;  // taken
    }
    __syncthreads();
  }
}

}  // namespace slotdiff::cuda::kernels
