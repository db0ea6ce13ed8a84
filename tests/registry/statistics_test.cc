// The statistics against R (tests/registry/stats/expected.R) on the fixture
// data of tests/registry/stats/fixture.txt, to 1e-9 (relative above 1).
#include "registry/statistics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace regenpath::registry {
namespace {

constexpr double kTolerance = 1e-9;

std::string StatsPath(const std::string& name) {
  return std::string(REGENPATH_SOURCE_DIR) + "/tests/registry/stats/" + name;
}

std::vector<std::vector<std::string>> Lines(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  std::vector<std::vector<std::string>> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream words(line);
    std::vector<std::string> fields;
    std::string word;
    while (words >> word) fields.push_back(word);
    out.push_back(fields);
  }
  return out;
}

void ExpectNear(const std::optional<double>& actual, const std::string& expected, const std::string& what) {
  if (expected == "NA") {
    EXPECT_FALSE(actual.has_value()) << what;
    return;
  }
  ASSERT_TRUE(actual.has_value()) << what;
  double value = std::stod(expected);
  EXPECT_NEAR(*actual, value, kTolerance * std::max(1.0, std::fabs(value))) << what;
}

TEST(StatisticsTest, AgreesWithRToOneInABillion) {
  std::map<std::string, std::vector<std::string>> fixture;
  for (const auto& fields : Lines(StatsPath("fixture.txt"))) fixture[fields[0] + " " + fields[1]] = fields;
  std::map<std::string, std::vector<std::vector<std::string>>> km_expected;
  int checked = 0;
  for (const auto& expected : Lines(StatsPath("expected.txt"))) {
    const std::string& kind = expected[0];
    const std::vector<std::string>& input = fixture.at(kind + " " + expected[1]);
    if (kind == "mean") {
      std::vector<double> values;
      for (size_t index = 2; index < input.size(); ++index) values.push_back(std::stod(input[index]));
      MeanInterval mean = MeanWithInterval(values);
      EXPECT_EQ(mean.n, std::stoi(expected[2]));
      ExpectNear(mean.mean, expected[3], "mean " + expected[1]);
      ExpectNear(mean.sd, expected[4], "sd " + expected[1]);
      ExpectNear(mean.lower, expected[5], "lower " + expected[1]);
      ExpectNear(mean.upper, expected[6], "upper " + expected[1]);
      ++checked;
    } else if (kind == "prop") {
      Proportion proportion = WilsonProportion(std::stoi(input[2]), std::stoi(input[3]));
      ExpectNear(proportion.p, expected[4], "p " + expected[1]);
      ExpectNear(proportion.lower, expected[5], "lower " + expected[1]);
      ExpectNear(proportion.upper, expected[6], "upper " + expected[1]);
      ++checked;
    } else if (kind == "km") {
      km_expected[expected[1]].push_back(expected);
    }
  }
  for (const auto& [id, rows] : km_expected) {
    const std::vector<std::string>& input = fixture.at("km " + id);
    std::vector<SurvivalSubject> subjects;
    for (size_t index = 2; index < input.size(); ++index) {
      size_t colon = input[index].find(':');
      subjects.push_back({std::stod(input[index].substr(0, colon)), input[index].substr(colon + 1) == "1"});
    }
    std::vector<SurvivalStep> steps = KaplanMeier(subjects);
    ASSERT_EQ(steps.size(), rows.size()) << id;
    for (size_t index = 0; index < rows.size(); ++index) {
      std::string what = "km " + id + " step " + std::to_string(index);
      EXPECT_DOUBLE_EQ(steps[index].time, std::stod(rows[index][2])) << what;
      EXPECT_EQ(steps[index].at_risk, std::stoi(rows[index][3])) << what;
      EXPECT_EQ(steps[index].events, std::stoi(rows[index][4])) << what;
      ExpectNear(steps[index].survival, rows[index][5], what + " survival");
      ExpectNear(steps[index].lower, rows[index][6], what + " lower");
      ExpectNear(steps[index].upper, rows[index][7], what + " upper");
      ++checked;
    }
  }
  EXPECT_GT(checked, 80);
}

TEST(StatisticsTest, TQuantileKnownValues) {
  // qt(0.975, df) in R.
  EXPECT_NEAR(StudentTQuantile(0.975, 1), 12.706204736174694, 1e-9);
  EXPECT_NEAR(StudentTQuantile(0.975, 9), 2.2621571627982049, 1e-12);
  EXPECT_NEAR(StudentTQuantile(0.025, 9), -2.2621571627982049, 1e-12);
}

TEST(StatisticsTest, EmptyAndTinyInputsHaveNoInterval) {
  EXPECT_FALSE(MeanWithInterval({}).mean.has_value());
  MeanInterval one = MeanWithInterval({3});
  EXPECT_EQ(one.mean, 3.0);
  EXPECT_FALSE(one.lower.has_value());
  EXPECT_FALSE(WilsonProportion(0, 0).p.has_value());
  EXPECT_TRUE(KaplanMeier({}).empty());
  EXPECT_TRUE(KaplanMeier({{5, false}, {6, false}}).empty());
}

// Whole days (counted in an array) and any other times (sorted) give the
// same curve: the same subjects with every time moved by half a day take
// the sorting path, and their steps are the same but for the time.
TEST(StatisticsTest, KaplanMeierCountsWholeDaysAsItSortsOtherTimes) {
  std::mt19937 random(7);
  for (int spread : {30, 400, 100000}) {  // the last: too wide to count, sorted either way
    std::vector<SurvivalSubject> days;
    std::vector<SurvivalSubject> halves;
    std::uniform_int_distribution<int> time(-5, spread);
    for (int index = 0; index < 500; ++index) {
      SurvivalSubject subject{static_cast<double>(time(random)), random() % 3 == 0};
      days.push_back(subject);
      halves.push_back(SurvivalSubject{subject.time + 0.5, subject.event});
    }
    std::vector<SurvivalStep> counted = KaplanMeier(days);
    std::vector<SurvivalStep> sorted = KaplanMeier(halves);
    ASSERT_EQ(counted.size(), sorted.size()) << spread;
    ASSERT_GT(counted.size(), 5u);
    for (size_t index = 0; index < counted.size(); ++index) {
      EXPECT_EQ(counted[index].time + 0.5, sorted[index].time);
      EXPECT_EQ(counted[index].at_risk, sorted[index].at_risk);
      EXPECT_EQ(counted[index].events, sorted[index].events);
      EXPECT_EQ(counted[index].censored, sorted[index].censored);
      EXPECT_EQ(counted[index].survival, sorted[index].survival);  // exact
      EXPECT_EQ(counted[index].lower, sorted[index].lower);
      EXPECT_EQ(counted[index].upper, sorted[index].upper);
    }
  }
}

}  // namespace
}  // namespace regenpath::registry
