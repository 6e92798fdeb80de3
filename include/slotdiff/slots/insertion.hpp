// slotdiff/slots/insertion.hpp: kept so that existing includes work; insertion and insertion_batch
// are vocabulary types and live in types/insertion.hpp.
#pragma once

#include "slotdiff/types/insertion.hpp"
