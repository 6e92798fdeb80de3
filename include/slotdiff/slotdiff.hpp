// slotdiff/slotdiff.hpp: umbrella header for the core (standard library and Boost headers only).
#pragma once

#include "slotdiff/concepts/slot_layout.hpp"
#include "slotdiff/concepts/distance_metric.hpp"
#include "slotdiff/concepts/embedder.hpp"
#include "slotdiff/concepts/slot_sequence.hpp"
#include "slotdiff/config.hpp"
#include "slotdiff/error.hpp"
#include "slotdiff/slots/devector_slots.hpp"
#include "slotdiff/slots/gap_buffer_slots.hpp"
#include "slotdiff/slots/gapped_slots.hpp"
#include "slotdiff/slots/insertion.hpp"
#include "slotdiff/slots/layout.hpp"
#include "slotdiff/slots/vector_slots.hpp"
