// The check_<concept><T>() diagnostics agree with their concepts on the library's own types (the
// failing side is the compile-fail tests in CMakeLists.txt), and every concept header depends only
// on the vocabulary types.
#include <slotdiff/concepts/denoiser_backend.hpp>
#include <slotdiff/concepts/distance_metric.hpp>
#include <slotdiff/concepts/embedder.hpp>
#include <slotdiff/concepts/importance_scorer.hpp>
#include <slotdiff/concepts/replayable_trajectory.hpp>
#include <slotdiff/concepts/semantic_measure.hpp>
#include <slotdiff/concepts/slot_layout.hpp>
#include <slotdiff/concepts/slot_sequence.hpp>
#include <slotdiff/concepts/stop_policy.hpp>
#include <slotdiff/backends/oracle.hpp>
#include <slotdiff/denoise/semantics.hpp>
#include <slotdiff/noise/trajectory.hpp>
#include <slotdiff/slots.hpp>
#include <slotdiff/stop/policies.hpp>

#include <catch2/catch.hpp>

using namespace slotdiff;

TEST_CASE("the diagnostics accept what the concepts accept", "[concepts][diagnostics]") {
  STATIC_REQUIRE(check_slot_layout<side_layout>());
  STATIC_REQUIRE(check_slot_layout<gap_layout>());
  STATIC_REQUIRE(check_slot_sequence<vector_slots<side_layout>>());
  STATIC_REQUIRE(check_slot_sequence<devector_slots<gap_layout>>());
  STATIC_REQUIRE(check_slot_sequence<gap_buffer_slots<side_layout>>());
  STATIC_REQUIRE(check_slot_sequence<gapped_slots<gap_layout>>());
  STATIC_REQUIRE(check_token_sequence<vector_slots<side_layout>>());
  STATIC_REQUIRE(check_semantic_measure<no_semantics>());
  STATIC_REQUIRE(check_replayable_trajectory<trajectory<side_layout>>());
  STATIC_REQUIRE(check_stop_policy<stop::max_steps>());
  STATIC_REQUIRE(check_stop_policy<decltype(stop::any_of(stop::max_steps{4}, stop::probability_below{0.5f}))>());
  STATIC_REQUIRE(check_denoiser_backend<oracle_backend<side_layout>>());
}

namespace {
struct no_members {};
}  // namespace

TEST_CASE("the named requirements say which member is missing", "[concepts][diagnostics]") {
  // What check_<concept> turns into messages, read here as booleans.
  STATIC_REQUIRE_FALSE(detail::slot_layout_requires::locate<no_members>);
  STATIC_REQUIRE(detail::slot_layout_requires::locate<side_layout>);
  STATIC_REQUIRE_FALSE(detail::denoiser_backend_requires::none_id<no_members>);
  STATIC_REQUIRE_FALSE(detail::slot_sequence_requires::apply<const vector_slots<side_layout>>);
  STATIC_REQUIRE(detail::slot_sequence_requires::apply<vector_slots<side_layout>>);
  STATIC_REQUIRE_FALSE(detail::embedder_requires::embed_tokens<no_members>);
  STATIC_REQUIRE_FALSE(detail::semantic_measure_requires::target<no_members>);
  STATIC_REQUIRE_FALSE(detail::replayable_trajectory_requires::steps<no_members>);
  STATIC_REQUIRE_FALSE(detail::stop_policy_requires::call<no_members>);
  STATIC_REQUIRE_FALSE(slot_layout<no_members>);
  STATIC_REQUIRE_FALSE(denoiser_backend<no_members>);
}
