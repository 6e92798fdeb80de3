// slotdiff/backends/reference/embedder.hpp: moved to slotdiff/embed/reference_embedder.hpp (the
// reference embedder is an embedder, and embedders live under embed/). This forwarding header stays
// for one release; include the new path.
#pragma once

#include "slotdiff/embed/reference_embedder.hpp"
