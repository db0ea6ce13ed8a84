// GroupByPatient and OrderWithinPatient against a plain stable sort;
// LargestFirst against the bytes of each group.
#include "screen/patient_order.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace regenpath::screen {
namespace {

// Lines of `patients` patients in runs of random length (as a bulk export
// writes them), from several files, each line numbered once per file.
std::vector<PatientLine> RandomLines(std::mt19937& random, const std::vector<std::string>& ids,
                                     size_t count) {
  std::vector<PatientLine> lines;
  std::vector<uint64_t> next_line(4, 1);
  while (lines.size() < count) {
    const std::string& id = ids[random() % ids.size()];
    const uint32_t file = static_cast<uint32_t>(random() % next_line.size());
    for (size_t run = 1 + random() % 5; run > 0 && lines.size() < count; --run) {
      lines.push_back({id, file, next_line[file]++, "{}"});
    }
  }
  std::shuffle(lines.begin(), lines.begin() + static_cast<long>(lines.size() / 3),
               random);  // and some not in runs
  return lines;
}

bool SameLine(const PatientLine& a, const PatientLine& b) {
  return a.patient_id == b.patient_id && a.file == b.file && a.line == b.line &&
         a.text.data() == b.text.data();
}

TEST(PatientOrderTest, GroupsLikeAStableSortByPatientId) {
  std::mt19937 random(12);
  // Ids that are prefixes of one another, and that differ in their last byte.
  const std::vector<std::string> ids = {"p", "p1", "p10", "p2", "P", "q", "p11", "p1\xc3\xa9", "0"};
  for (size_t count : {0, 1, 2, 7, 100, 5000}) {
    std::vector<PatientLine> lines = RandomLines(random, ids, count);
    std::vector<PatientLine> expected = lines;
    std::stable_sort(expected.begin(), expected.end(),
                     [](const PatientLine& a, const PatientLine& b) { return a.patient_id < b.patient_id; });
    const std::vector<PatientGroup> groups = GroupByPatient(lines);
    ASSERT_EQ(lines.size(), expected.size());
    for (size_t i = 0; i < lines.size(); ++i)
      ASSERT_TRUE(SameLine(lines[i], expected[i])) << count << " at " << i;
    size_t at = 0;
    for (size_t g = 0; g < groups.size(); ++g) {
      EXPECT_EQ(groups[g].begin, at);
      ASSERT_LT(groups[g].begin, groups[g].end);
      if (g > 0) {
        EXPECT_LT(groups[g - 1].patient_id, groups[g].patient_id);
      }
      for (size_t i = groups[g].begin; i < groups[g].end; ++i)
        EXPECT_EQ(lines[i].patient_id, groups[g].patient_id);
      at = groups[g].end;
    }
    EXPECT_EQ(at, lines.size());
  }
}

// Ids are compared by value: the same id from different buffers is one
// patient.
TEST(PatientOrderTest, SameIdInDifferentBuffersIsOnePatient) {
  const std::string first = "abc", second = "abc", other = "abd";
  std::vector<PatientLine> lines = {{first, 0, 1, ""}, {other, 0, 2, ""}, {second, 1, 1, ""}};
  const std::vector<PatientGroup> groups = GroupByPatient(lines);
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].end - groups[0].begin, 2u);
  EXPECT_EQ(lines[0].patient_id.data(), first.data());
  EXPECT_EQ(lines[1].patient_id.data(), second.data());
  EXPECT_EQ(lines[2].patient_id.data(), other.data());
}

// OrderWithinPatient(lines) gives what a plain sort by (file, line) gives.
void CheckOrdered(std::vector<PatientLine> lines) {
  std::vector<PatientLine> expected = lines;
  std::sort(expected.begin(), expected.end(), [](const PatientLine& a, const PatientLine& b) {
    return std::pair(a.file, a.line) < std::pair(b.file, b.line);
  });
  OrderWithinPatient(lines);
  ASSERT_EQ(lines.size(), expected.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(lines[i].file, expected[i].file) << i;
    EXPECT_EQ(lines[i].line, expected[i].line) << i;
  }
}

TEST(PatientOrderTest, OrderWithinPatientSortsByFileThenLine) {
  std::mt19937 random(5);
  // Random lines (a run per line or two), and lines in 1 to 17 ascending
  // runs of random lengths, as the scan gives them.
  for (size_t count : {0, 1, 2, 3, 300, 1000}) {
    for (size_t runs : {0, 1, 2, 3, 8, 17}) {
      std::vector<PatientLine> lines;
      if (runs == 0) {
        for (size_t i = 0; i < count; ++i) {
          lines.push_back({"p", static_cast<uint32_t>(random() % 3), 1 + random() % 1000000, ""});
        }
      } else {
        std::vector<size_t> cuts{0, count};
        for (size_t r = 1; r < runs; ++r) cuts.push_back(count == 0 ? 0 : random() % (count + 1));
        std::sort(cuts.begin(), cuts.end());
        std::vector<PatientLine> ordered;
        for (size_t i = 0; i < count; ++i) ordered.push_back({"p", static_cast<uint32_t>(i % 4), i + 1, ""});
        std::sort(ordered.begin(), ordered.end(), [](const PatientLine& a, const PatientLine& b) {
          return std::pair(a.file, a.line) < std::pair(b.file, b.line);
        });
        // Run r takes every line whose position falls in [cuts[r], cuts[r+1]) of a
        // shuffled order, kept ascending: runs interleave in file and line.
        std::vector<size_t> run_of(count);
        std::vector<size_t> positions(count);
        for (size_t i = 0; i < count; ++i) positions[i] = i;
        std::shuffle(positions.begin(), positions.end(), random);
        for (size_t r = 0; r + 1 < cuts.size(); ++r) {
          for (size_t k = cuts[r]; k < cuts[r + 1]; ++k) run_of[positions[k]] = r;
        }
        for (size_t r = 0; r + 1 < cuts.size(); ++r) {
          for (size_t i = 0; i < count; ++i) {
            if (run_of[i] == r) lines.push_back(ordered[i]);
          }
        }
      }
      CheckOrdered(lines);
    }
  }
}

// LargestFirst takes every group once, the most bytes of text first (not
// the most lines), ties in group order.
TEST(PatientOrderTest, LargestFirstTakesTheGroupsWithTheMostBytesFirst) {
  const std::string big(500, 'b'), small(10, 's');
  // Patients a..e: a 3 small lines (30 bytes), b 1 big line (500), c none
  // of text (2 empty lines), d 1 big line (500, a tie with b), e 50 small (500 too).
  std::vector<PatientLine> lines;
  std::vector<PatientGroup> groups;
  auto add = [&](std::string_view id, int count, std::string_view text) {
    const size_t begin = lines.size();
    for (int i = 0; i < count; ++i) lines.push_back({id, 0, static_cast<uint64_t>(lines.size() + 1), text});
    groups.push_back({id, begin, lines.size()});
  };
  add("a", 3, small);
  add("b", 1, big);
  add("c", 2, "");
  add("d", 1, big);
  add("e", 50, small);
  EXPECT_EQ(LargestFirst(lines, groups), (std::vector<uint32_t>{1, 3, 4, 0, 2}));
  EXPECT_TRUE(LargestFirst(lines, {}).empty());
  // Random groups: a permutation, bytes never increasing.
  std::mt19937 random(7);
  for (int round = 0; round < 20; ++round) {
    lines.clear();
    groups.clear();
    std::vector<std::string> texts;
    for (size_t size = 0; size < 40; ++size) texts.push_back(std::string(size, 'x'));
    for (int g = 0; g < 1 + static_cast<int>(random() % 60); ++g) {
      const size_t begin = lines.size();
      for (size_t n = random() % 6; n > 0; --n)
        lines.push_back({"p", 0, lines.size() + 1, texts[random() % 40]});
      groups.push_back({"p", begin, lines.size()});
    }
    std::vector<uint32_t> order = LargestFirst(lines, groups);
    std::vector<uint32_t> sorted = order;
    std::sort(sorted.begin(), sorted.end());
    for (size_t i = 0; i < sorted.size(); ++i) ASSERT_EQ(sorted[i], i);
    auto bytes = [&](uint32_t g) {
      size_t total = 0;
      for (size_t i = groups[g].begin; i < groups[g].end; ++i) total += lines[i].text.size();
      return total;
    };
    for (size_t i = 1; i < order.size(); ++i) {
      ASSERT_GE(bytes(order[i - 1]), bytes(order[i]));
      if (bytes(order[i - 1]) == bytes(order[i])) ASSERT_LT(order[i - 1], order[i]);
    }
  }
}

}  // namespace
}  // namespace regenpath::screen
