#include <slotdiff/slots.hpp>

#include <catch2/catch.hpp>

#include <iterator>
#include <memory>
#include <ranges>
#include <span>
#include <type_traits>
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

TEMPLATE_TEST_CASE("iterators that return by value say input to the C++17 traits and their strength to C++20",
                   "[concepts][iterators]", gap_buffer_slots<side_layout>, gapped_slots<side_layout>) {
  using it = typename TestType::const_iterator;
  STATIC_REQUIRE(std::is_same_v<typename std::iterator_traits<it>::iterator_category, std::input_iterator_tag>);
  STATIC_REQUIRE(std::forward_iterator<it>);
  STATIC_REQUIRE(std::ranges::forward_range<const TestType>);
}

TEST_CASE("each slot sequence's iterator concept is as strong as it can be", "[concepts][iterators]") {
  STATIC_REQUIRE(std::random_access_iterator<gap_buffer_slots<>::const_iterator>);
  STATIC_REQUIRE(std::ranges::random_access_range<const gap_buffer_slots<>>);
  STATIC_REQUIRE_FALSE(std::bidirectional_iterator<gapped_slots<>::const_iterator>);
  STATIC_REQUIRE(std::contiguous_iterator<vector_slots<>::const_iterator>);
  STATIC_REQUIRE(std::ranges::contiguous_range<const devector_slots<>>);
}

namespace {

// Counts the bytes it hands out and takes back; every copy shares one ledger.
struct ledger {
  std::ptrdiff_t live = 0;
  std::size_t allocations = 0;
};

template <class T>
struct counting_allocator {
  using value_type = T;
  ledger* book;
  explicit counting_allocator(ledger* l) noexcept : book(l) {}
  template <class U>
  counting_allocator(const counting_allocator<U>& o) noexcept : book(o.book) {}
  T* allocate(std::size_t n) {
    book->live += static_cast<std::ptrdiff_t>(n * sizeof(T));
    ++book->allocations;
    return std::allocator<T>{}.allocate(n);
  }
  void deallocate(T* p, std::size_t n) noexcept {
    book->live -= static_cast<std::ptrdiff_t>(n * sizeof(T));
    std::allocator<T>{}.deallocate(p, n);
  }
  template <class U>
  friend bool operator==(const counting_allocator& a, const counting_allocator<U>& b) noexcept {
    return a.book == b.book;
  }
};

template <template <class, class, class> class Seq>
void allocator_carries_every_column() {
  ledger book;
  {
    using seq_t = Seq<side_layout, counting_allocator<token_id>, void>;
    seq_t seq({1, 2, 3}, 100, counting_allocator<token_id>(&book));
    REQUIRE(seq.get_allocator().book == &book);
    const std::size_t before = book.allocations;
    CHECK(before >= 2);  // at least the token and the birth column
    for (int s = 0; s < 20; ++s) {
      std::vector<insertion> step;
      for (std::size_t slot = 0; slot < seq.slot_count(); slot += 2) step.push_back({slot, 7});
      seq.apply(step);
      REQUIRE(seq.invariants_ok());
    }
    CHECK(book.allocations > before);  // growth went through the allocator too
    CHECK(book.live > 0);
  }
  CHECK(book.live == 0);  // and everything came back to it
}

}  // namespace

TEST_CASE("a user allocator serves the columns of every slot sequence", "[slots][allocator]") {
  allocator_carries_every_column<vector_slots>();
  allocator_carries_every_column<devector_slots>();
  allocator_carries_every_column<gap_buffer_slots>();
  allocator_carries_every_column<gapped_slots>();
}

TEST_CASE("the options pack sets the growth of each slot sequence", "[slots][options]") {
  std::vector<token_id> init(100, 1);
  std::vector<insertion> one{{0, 2}};
  SECTION("vector_slots grows to max(needed, capacity * factor)") {
    vector_slots<side_layout> plain(init);
    vector_slots<side_layout, void, slot_options<growth_factor<3, 2>>> slow(init);
    plain.reserve(100);
    slow.reserve(100);
    REQUIRE(plain.capacity() == 100);
    plain.apply(one);
    slow.apply(one);
    CHECK(plain.capacity() == 200);
    CHECK(slow.capacity() == 150);
  }
  SECTION("gap_buffer_slots rebuilds to capacity * factor") {
    gap_buffer_slots<gap_layout> plain(init);
    gap_buffer_slots<gap_layout, void, slot_options<growth_factor<3>>> fast(init);
    REQUIRE(plain.capacity() == 150);  // n + n / 2 at construction
    plain.reserve(200);
    fast.reserve(200);
    REQUIRE(plain.capacity() == 200);  // exactly what reserve asks, as std::vector
    std::vector<insertion> many;
    for (std::size_t s = 0; s <= 100; ++s) many.push_back({s, 3});  // 101 insertions > the gap of 100
    plain.apply(many);
    fast.apply(many);
    CHECK(plain.capacity() == 400);
    CHECK(fast.capacity() == 600);
  }
  SECTION("gapped_slots builds its array for tokens * factor, in blocks of 64, a power of two of them") {
    CHECK(gapped_slots<side_layout>(init).capacity() == 256);                                  // 200 -> 4 blocks
    CHECK(gapped_slots<side_layout, void, slot_options<growth_factor<4>>>(init).capacity() == 512);  // 400 -> 8
  }
  STATIC_REQUIRE(vector_slots<>::options::growth.num == 2);
  STATIC_REQUIRE(devector_slots<>::options::growth.num == 3);
  STATIC_REQUIRE(devector_slots<>::options::growth_minimum == 8);
  STATIC_REQUIRE(gapped_slots<>::options::root_density.num == 7);
  STATIC_REQUIRE(gapped_slots<side_layout, void, slot_options<root_density<1, 2>>>::options::root_density.den == 2);
}
