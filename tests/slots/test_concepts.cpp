#include <slotdiff/slots.hpp>

#include <catch2/catch.hpp>

#include <span>
#include <vector>

using namespace slotdiff;

namespace {

// The archetype: exactly what slot_sequence asks for, nothing more.
struct archetype {
  using layout_type = gap_layout;
  std::size_t size() const { return 0; }
  token_id token(std::size_t) const { return 0; }
  step_index birth(std::size_t) const { return 0; }
  step_index step() const { return 0; }
  std::size_t slot_count() const { return 1; }
  void copy_tokens(std::span<token_id>) const {}
  void copy_births(std::span<step_index>) const {}
  void apply(insertion_batch) {}
  const token_id* begin() const { return nullptr; }
  const token_id* end() const { return nullptr; }
};

struct read_only {  // a token_sequence that cannot grow
  std::size_t size() const { return 0; }
  token_id token(std::size_t) const { return 0; }
  void copy_tokens(std::span<token_id>) const {}
  const token_id* begin() const { return nullptr; }
  const token_id* end() const { return nullptr; }
};

}  // namespace

TEST_CASE("slot_sequence accepts its archetype and refuses what falls short", "[concepts]") {
  STATIC_REQUIRE(slot_sequence<archetype>);
  STATIC_REQUIRE(token_sequence<read_only>);
  STATIC_REQUIRE_FALSE(slot_sequence<read_only>);
  STATIC_REQUIRE_FALSE(token_sequence<std::vector<float>>);
  STATIC_REQUIRE_FALSE(slot_sequence<std::vector<token_id>>);
}

TEMPLATE_TEST_CASE("every implementation is a slot_sequence", "[concepts]", vector_slots<side_layout>,
                   vector_slots<gap_layout>, devector_slots<side_layout>, devector_slots<gap_layout>,
                   gap_buffer_slots<side_layout>, gap_buffer_slots<gap_layout>, gapped_slots<side_layout>,
                   gapped_slots<gap_layout>) {
  STATIC_REQUIRE(slot_sequence<TestType>);
}
