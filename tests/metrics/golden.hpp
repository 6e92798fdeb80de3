// tests/metrics/golden.hpp: reads tests/metrics/golden/metrics.txt (written by tools/golden_metrics.py).
#pragma once

#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace slotdiff::test {

struct golden_case {
  std::string kind;
  std::vector<double> tags;
  std::map<std::string, std::vector<float>> arrays;
  std::map<std::string, std::vector<double>> arrays64;  // L1 (float64 expectations)
  std::map<std::string, double> expect;
};

inline std::vector<golden_case> read_golden() {
  std::ifstream in(SLOTDIFF_METRICS_GOLDEN);
  if (!in) throw std::runtime_error("cannot open " SLOTDIFF_METRICS_GOLDEN);
  std::vector<golden_case> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ls(line);
    std::string head;
    ls >> head;
    if (head == "case") {
      out.emplace_back();
      ls >> out.back().kind;
      double t;
      while (ls >> t) out.back().tags.push_back(t);
    } else if (head == "expect") {
      std::string name;
      double v;
      ls >> name >> v;
      out.back().expect[name] = v;
    } else if (head == "end") {
    } else {
      std::size_t n;
      ls >> n;
      if (head == "L1") {
        auto& v = out.back().arrays64[head];
        v.resize(n);
        for (auto& x : v) ls >> x;
      } else {
        auto& v = out.back().arrays[head];
        v.resize(n);
        for (auto& x : v) ls >> x;
      }
      if (!ls) throw std::runtime_error("golden: short array " + head);
    }
  }
  return out;
}

inline const std::vector<golden_case>& golden() {
  static const std::vector<golden_case> g = read_golden();
  return g;
}

}  // namespace slotdiff::test
