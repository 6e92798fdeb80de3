// slotdiff/slots.hpp: umbrella header for slot layouts and slot sequences.
#pragma once

#include "slotdiff/concepts/slot_sequence.hpp"
#include "slotdiff/slots/devector_slots.hpp"
#include "slotdiff/slots/gap_buffer_slots.hpp"
#include "slotdiff/slots/gapped_slots.hpp"
#include "slotdiff/slots/layout.hpp"
#include "slotdiff/slots/options.hpp"
#include "slotdiff/slots/vector_slots.hpp"
