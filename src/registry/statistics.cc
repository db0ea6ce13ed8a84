#include "registry/statistics.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

namespace regenpath::registry {

namespace {

// Continued fraction of the incomplete beta function (modified Lentz),
// Numerical Recipes §6.4; converges for x < (a + 1) / (a + b + 2).
double BetaContinuedFraction(double a, double b, double x) {
  constexpr int kMaxIterations = 10000;
  constexpr double kEpsilon = 1e-16;
  constexpr double kTiny = 1e-300;
  double qab = a + b;
  double qap = a + 1;
  double qam = a - 1;
  double c = 1;
  double d = 1 - qab * x / qap;
  if (std::fabs(d) < kTiny) d = kTiny;
  d = 1 / d;
  double h = d;
  for (int m = 1; m <= kMaxIterations; ++m) {
    double m2 = 2.0 * m;
    double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    h *= d * c;
    aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    double delta = d * c;
    h *= delta;
    if (std::fabs(delta - 1) < kEpsilon) break;
  }
  return h;
}

// The regularized incomplete beta function I_x(a, b).
double RegularizedBeta(double x, double a, double b) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  double log_front = std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x);
  if (x < (a + 1) / (a + b + 2)) return std::exp(log_front) * BetaContinuedFraction(a, b, x) / a;
  return 1 - std::exp(log_front) * BetaContinuedFraction(b, a, 1 - x) / b;
}

// P(T <= t) for Student's t with `df` degrees of freedom.
double StudentTCdf(double t, double df) {
  double x = df / (df + t * t);
  double tail = 0.5 * RegularizedBeta(x, df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

}  // namespace

double StudentTQuantile(double p, double df) {
  if (p == 0.5) return 0;
  if (p < 0.5) return -StudentTQuantile(1 - p, df);
  // Bracket, then bisect to the last representable digit: the CDF is
  // monotone, so this is robust for every df; 200 halvings exhaust a double.
  double low = 0;
  double high = 1;
  while (StudentTCdf(high, df) < p) high *= 2;
  for (int iteration = 0; iteration < 200; ++iteration) {
    double middle = 0.5 * (low + high);
    if (middle == low || middle == high) break;
    if (StudentTCdf(middle, df) < p) {
      low = middle;
    } else {
      high = middle;
    }
  }
  return 0.5 * (low + high);
}

MeanInterval MeanWithInterval(const std::vector<double>& values, double level) {
  MeanInterval out;
  out.n = static_cast<int>(values.size());
  if (values.empty()) return out;
  // Two-pass mean and variance (numerically stable for registry-sized n).
  double sum = 0;
  for (double value : values) sum += value;
  double mean = sum / out.n;
  out.mean = mean;
  if (out.n < 2) return out;
  double squares = 0;
  double compensation = 0;
  for (double value : values) {
    squares += (value - mean) * (value - mean);
    compensation += value - mean;
  }
  double variance = (squares - compensation * compensation / out.n) / (out.n - 1);
  double sd = std::sqrt(variance);
  out.sd = sd;
  double t = StudentTQuantile(1 - (1 - level) / 2, out.n - 1);
  double half = t * sd / std::sqrt(static_cast<double>(out.n));
  out.lower = mean - half;
  out.upper = mean + half;
  return out;
}

Proportion WilsonProportion(int successes, int n, double z) {
  Proportion out;
  out.successes = successes;
  out.n = n;
  if (n <= 0) return out;
  double nn = n;
  double p = successes / nn;
  double z2 = z * z;
  double centre = p + z2 / (2 * nn);
  double spread = z * std::sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn));
  double denominator = 1 + z2 / nn;
  out.p = p;
  out.lower = std::max(0.0, (centre - spread) / denominator);
  out.upper = std::min(1.0, (centre + spread) / denominator);
  return out;
}

namespace {

// The subjects at one distinct time.
struct TimeCount {
  double time = 0;
  int events = 0;
  int censored = 0;
};

// The subjects' distinct times, ascending, with their events and
// censorings. Whole numbers of days in a range not much wider than the
// number of subjects (what the registry's curves are) are counted in an
// array, without sorting; any other times are sorted. Both give the same
// times and counts.
std::vector<TimeCount> CountByTime(const std::vector<SurvivalSubject>& subjects) {
  std::vector<TimeCount> counts;
  if (subjects.empty()) return counts;
  bool whole = true;
  double low = subjects.front().time;
  double high = low;
  for (const SurvivalSubject& subject : subjects) {
    double time = subject.time;
    // Not NaN or infinite, a whole number, not -0 (kept as given by the sort).
    if (!(std::abs(time) <= 1e9) || time != std::floor(time) || (time == 0 && std::signbit(time))) {
      whole = false;
      break;
    }
    low = std::min(low, time);
    high = std::max(high, time);
  }
  if (whole && high - low <= 4.0 * static_cast<double>(subjects.size()) + 1024) {
    auto base = static_cast<int64_t>(low);
    std::vector<TimeCount> slots(static_cast<size_t>(high - low) + 1);
    for (const SurvivalSubject& subject : subjects) {
      TimeCount& slot = slots[static_cast<size_t>(static_cast<int64_t>(subject.time) - base)];
      (subject.event ? slot.events : slot.censored) += 1;
    }
    for (size_t index = 0; index < slots.size(); ++index) {
      if (slots[index].events == 0 && slots[index].censored == 0) continue;
      slots[index].time = static_cast<double>(base + static_cast<int64_t>(index));
      counts.push_back(slots[index]);
    }
    return counts;
  }
  std::vector<SurvivalSubject> sorted = subjects;
  std::sort(sorted.begin(), sorted.end(),
            [](const SurvivalSubject& a, const SurvivalSubject& b) { return a.time < b.time; });
  size_t index = 0;
  while (index < sorted.size()) {
    TimeCount count;
    count.time = sorted[index].time;
    while (index < sorted.size() && sorted[index].time == count.time) {
      (sorted[index].event ? count.events : count.censored) += 1;
      ++index;
    }
    counts.push_back(count);
  }
  return counts;
}

}  // namespace

std::vector<SurvivalStep> KaplanMeier(const std::vector<SurvivalSubject>& subjects, double z) {
  std::vector<SurvivalStep> steps;
  int at_risk = static_cast<int>(subjects.size());
  double survival = 1;
  double greenwood = 0;  // Σ d / (n (n − d))
  for (const TimeCount& count : CountByTime(subjects)) {
    double time = count.time;
    int events = count.events;
    int censored = count.censored;
    if (events > 0) {
      survival *= 1.0 - static_cast<double>(events) / at_risk;
      if (at_risk > events) {
        greenwood += static_cast<double>(events) / (static_cast<double>(at_risk) * (at_risk - events));
      }
      SurvivalStep step;
      step.time = time;
      step.at_risk = at_risk;
      step.events = events;
      step.censored = censored;
      step.survival = survival;
      if (survival > 0) {
        double half = z * std::sqrt(greenwood);
        step.lower = std::exp(std::log(survival) - half);
        step.upper = std::min(1.0, std::exp(std::log(survival) + half));
      }
      steps.push_back(step);
    } else if (!steps.empty() && steps.back().time == time) {
      steps.back().censored += censored;
    }
    at_risk -= events + censored;
  }
  return steps;
}

}  // namespace regenpath::registry
