// slotdiff/backends/reference/thread_pool.hpp: moved to slotdiff/detail/thread_pool.hpp (the pool is
// not the reference model's own: noise_corpus runs on it too). This forwarding header stays for one
// release; include the new path.
#pragma once

#include "slotdiff/detail/thread_pool.hpp"
