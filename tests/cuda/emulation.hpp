// Runs the CUDA reference denoiser's kernels (slotdiff/cuda/kernels.cuh) on CPU threads, so that
// their indexing, barriers and warp shuffles are tested on machines without a GPU. Include this
// instead of the CUDA headers, before kernels.cuh.
//
// One block at a time: every thread of the block is a std::thread; __syncthreads is a barrier of the
// block, a warp shuffle a write-barrier-read-barrier exchange among the warp's 32 threads; __shared__
// arrays are static (one block at a time shares them, as on the device). It checks logic, not speed,
// and it cannot see what only real hardware does (memory ordering beyond the barriers, bank conflicts).
#pragma once

#define SLOTDIFF_CUDA_EMULATION 1

#include <atomic>
#include <barrier>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <thread>
#include <type_traits>
#include <vector>

#define __global__
#define __device__
#define __host__
#define __launch_bounds__(...)
#define __shared__ static

struct dim3 {
  unsigned x = 1, y = 1, z = 1;
};
struct uint4 {
  unsigned x, y, z, w;
};
inline uint4 make_uint4(unsigned x, unsigned y, unsigned z, unsigned w) { return {x, y, z, w}; }

/// bf16 with the device's conversion: round to nearest, ties to even.
struct __nv_bfloat16 {
  std::uint16_t bits = 0;
  __nv_bfloat16() = default;
  explicit __nv_bfloat16(float f) {
    std::uint32_t u;
    std::memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) {
      bits = 0x7fc0;  // NaN
    } else {
      u += 0x7fffu + ((u >> 16) & 1u);
      bits = static_cast<std::uint16_t>(u >> 16);
    }
  }
  operator float() const {
    const std::uint32_t u = std::uint32_t{bits} << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
  }
};
inline __nv_bfloat16 __float2bfloat16(float f) { return __nv_bfloat16(f); }

inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline int min(int a, int b) { return a < b ? a : b; }

namespace emu {

inline thread_local dim3 thread_index, block_index;
inline dim3 block_dim, grid_dim;

struct warp_exchange {
  std::barrier<> bar{32};
  float f[32];
  int i[32];
  float ma[16][16], mb[16][8];  // a warp's mma operands, gathered from its lanes' fragments
};
inline std::unique_ptr<std::barrier<>> block_barrier;
inline std::vector<std::unique_ptr<warp_exchange>> warps;

template <class T>
T exchange(T v, int from) {
  warp_exchange& w = *warps[thread_index.x / 32];
  const unsigned lane = thread_index.x % 32;
  T* slot = nullptr;
  if constexpr (sizeof(T) == sizeof(float) && std::is_floating_point_v<T>) slot = reinterpret_cast<T*>(w.f);
  else slot = reinterpret_cast<T*>(w.i);
  slot[lane] = v;
  w.bar.arrive_and_wait();
  const T r = slot[from & 31];
  w.bar.arrive_and_wait();
  return r;
}

/// Runs kernel(args...) over `grid` blocks of `block` threads (block a multiple of 32), block by block.
template <class Kernel, class... Args>
void launch(dim3 grid, dim3 block, Kernel kernel, Args... args) {
  block_dim = block;
  grid_dim = grid;
  const unsigned threads = block.x;
  for (unsigned by = 0; by < grid.y; ++by)
    for (unsigned bx = 0; bx < grid.x; ++bx) {
      block_barrier = std::make_unique<std::barrier<>>(threads);
      warps.clear();
      for (unsigned w = 0; w < threads / 32; ++w) warps.push_back(std::make_unique<warp_exchange>());
      std::vector<std::thread> pool;
      for (unsigned t = 0; t < threads; ++t)
        pool.emplace_back([&, t] {
          thread_index = {t, 0, 0};
          block_index = {bx, by, 0};
          kernel(args...);
        });
      for (auto& th : pool) th.join();
    }
}

}  // namespace emu

#define threadIdx (emu::thread_index)
#define blockIdx (emu::block_index)
#define blockDim (emu::block_dim)
#define gridDim (emu::grid_dim)

// Dynamic shared memory: one buffer, sized by the test before a launch.
namespace emu {
inline std::vector<float> dynamic_shared;
}
#define SLOTDIFF_DYNAMIC_SHARED(type, name) type* name = reinterpret_cast<type*>(emu::dynamic_shared.data())

inline void __syncthreads() { emu::block_barrier->arrive_and_wait(); }
inline float __shfl_xor_sync(unsigned, float v, int mask) { return emu::exchange(v, static_cast<int>(threadIdx.x % 32) ^ mask); }
inline int __shfl_xor_sync(unsigned, int v, int mask) { return emu::exchange(v, static_cast<int>(threadIdx.x % 32) ^ mask); }
inline float __shfl_sync(unsigned, float v, int src) { return emu::exchange(v, src); }
inline int __shfl_sync(unsigned, int v, int src) { return emu::exchange(v, src); }
inline unsigned __shfl_sync(unsigned, unsigned v, int src) { return static_cast<unsigned>(emu::exchange(static_cast<int>(v), src)); }
/// Lanes below `delta` keep their own value, as on the device.
inline float __shfl_up_sync(unsigned, float v, unsigned delta) {
  const int lane = static_cast<int>(threadIdx.x % 32), from = lane - static_cast<int>(delta);
  const float r = emu::exchange(v, from < 0 ? lane : from);
  return r;
}
inline int __shfl_up_sync(unsigned, int v, unsigned delta) {
  const int lane = static_cast<int>(threadIdx.x % 32), from = lane - static_cast<int>(delta);
  return emu::exchange(v, from < 0 ? lane : from);
}
/// Bit l set where lane l's predicate holds (every lane of the warp takes part, as the kernels do).
inline unsigned __ballot_sync(unsigned, bool p) {
  emu::warp_exchange& w = *emu::warps[threadIdx.x / 32];
  w.i[threadIdx.x % 32] = p ? 1 : 0;
  w.bar.arrive_and_wait();
  unsigned bits = 0;
  for (int l = 0; l < 32; ++l) bits |= static_cast<unsigned>(w.i[l] != 0) << l;
  w.bar.arrive_and_wait();
  return bits;
}
inline void __syncwarp(unsigned = 0xffffffffu) { emu::warps[threadIdx.x / 32]->bar.arrive_and_wait(); }
inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __ffs(int x) { return __builtin_ffs(x); }
inline unsigned long long atomicMax(unsigned long long* p, unsigned long long v) {
  std::atomic_ref<unsigned long long> a(*p);
  unsigned long long old = a.load();
  while (old < v && !a.compare_exchange_weak(old, v)) {
  }
  return old;
}
inline float atomicAdd(float* p, float v) { return std::atomic_ref<float>(*p).fetch_add(v); }
inline unsigned atomicAdd(unsigned* p, unsigned v) { return std::atomic_ref<unsigned>(*p).fetch_add(v); }
inline int atomicAdd(int* p, int v) { return std::atomic_ref<int>(*p).fetch_add(v); }

// Warp-wide tensor-core products (mma.sync), from the fragment layouts of the PTX ISA ("Matrix
// Fragments for mma.m16n8k8" / "mma.m16n8k16"): lane = 4 g + t holds A rows g and g + 8, B column g,
// C/D row g (and g + 8) columns 2t, 2t + 1. Sums in double, rounded once (the device's fp32
// accumulation may round differently: the tests allow for it).
namespace emu {
inline float tf32_bits(unsigned u) {
  u &= 0xffffe000u;  // the tensor cores read 19 bits of each tf32 operand
  float x;
  std::memcpy(&x, &u, 4);
  return x;
}
inline float bf16_half(unsigned u, bool high) {
  const std::uint32_t b = (high ? u >> 16 : u & 0xffffu) << 16;
  float x;
  std::memcpy(&x, &b, 4);
  return x;
}
template <int K>
inline void mma_finish(warp_exchange& w, float (&d)[4], int g, int t) {
  w.bar.arrive_and_wait();
  for (int e = 0; e < 4; ++e) {
    const int row = g + (e >= 2 ? 8 : 0), col = 2 * t + (e & 1);
    double sum = d[e];
    for (int kk = 0; kk < K; ++kk) sum += static_cast<double>(w.ma[row][kk]) * w.mb[kk][col];
    d[e] = static_cast<float>(sum);
  }
  w.bar.arrive_and_wait();
}
/// d (16 x 8) += a (16 x 8, tf32) b (8 x 8, tf32).
inline void mma_tf32_16x8x8(float (&d)[4], const unsigned (&a)[4], const unsigned (&b)[2]) {
  warp_exchange& w = *warps[thread_index.x / 32];
  const int lane = static_cast<int>(thread_index.x % 32), g = lane / 4, t = lane % 4;
  w.ma[g][t] = tf32_bits(a[0]);
  w.ma[g + 8][t] = tf32_bits(a[1]);
  w.ma[g][t + 4] = tf32_bits(a[2]);
  w.ma[g + 8][t + 4] = tf32_bits(a[3]);
  w.mb[t][g] = tf32_bits(b[0]);
  w.mb[t + 4][g] = tf32_bits(b[1]);
  mma_finish<8>(w, d, g, t);
}
/// d (16 x 8) += a (16 x 16, bf16 pairs) b (16 x 8, bf16 pairs); the low half of a register is the
/// element of the smaller column (a) or row (b).
inline void mma_bf16_16x8x16(float (&d)[4], const unsigned (&a)[4], const unsigned (&b)[2]) {
  warp_exchange& w = *warps[thread_index.x / 32];
  const int lane = static_cast<int>(thread_index.x % 32), g = lane / 4, t = lane % 4;
  for (int h = 0; h < 2; ++h) {
    w.ma[g][2 * t + h] = bf16_half(a[0], h);
    w.ma[g + 8][2 * t + h] = bf16_half(a[1], h);
    w.ma[g][2 * t + 8 + h] = bf16_half(a[2], h);
    w.ma[g + 8][2 * t + 8 + h] = bf16_half(a[3], h);
    w.mb[2 * t + h][g] = bf16_half(b[0], h);
    w.mb[2 * t + 8 + h][g] = bf16_half(b[1], h);
  }
  mma_finish<16>(w, d, g, t);
}
}  // namespace emu
