// slotdiff/backends/ngram_text.hpp: the old path of the text -> trajectories -> n-gram pipeline, kept
// for one release. The pipeline joins the noising half and a backend, so it now lives above both, in
// slotdiff/pipeline/ (docs/design.md, "Pipelines"): include pipeline/ngram_from_text.hpp (training)
// or pipeline/text_trajectories.hpp (noise_text) instead.
#pragma once

#include "slotdiff/pipeline/ngram_from_text.hpp"
