// slotdiff/stop/step_report.hpp: kept so that existing includes work; step_report is a vocabulary
// type and lives in types/step_report.hpp.
#pragma once

#include "slotdiff/types/step_report.hpp"
