// The registry's statistics (docs/registry.md, "Statistics", with formulas
// and references). Pure functions of their inputs; thread-safe. Each is
// checked against R (stats, survival) on fixture data to 1e-9
// (tests/registry/stats/).
#ifndef REGENPATH_REGISTRY_STATISTICS_H_
#define REGENPATH_REGISTRY_STATISTICS_H_

#include <optional>
#include <vector>

namespace regenpath::registry {

// The standard normal quantile for a two-sided 95 % interval, 1.959963984540054.
inline constexpr double kZ95 = 1.959963984540054;

// Student's t quantile: P(T <= t) = p for `df` degrees of freedom
// (0 < p < 1, df >= 1). Inverts the regularized incomplete beta function.
double StudentTQuantile(double p, double df);

// Mean with the two-sided t interval: mean ± t(1 − α/2, n − 1) · s / √n.
// n < 2: no interval (lower/upper absent); n = 0: mean absent.
struct MeanInterval {
  int n = 0;
  std::optional<double> mean;
  std::optional<double> sd;
  std::optional<double> lower;
  std::optional<double> upper;
};
MeanInterval MeanWithInterval(const std::vector<double>& values, double level = 0.95);

// A proportion with the Wilson score interval (Wilson 1927), z = kZ95:
// (p̂ + z²/2n ± z·√(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n). n = 0: p absent.
struct Proportion {
  int successes = 0;
  int n = 0;
  std::optional<double> p;
  std::optional<double> lower;
  std::optional<double> upper;
};
Proportion WilsonProportion(int successes, int n, double z = kZ95);

// Kaplan–Meier estimate of survival with Greenwood's variance and the "log"
// interval of R's survfit (its default): exp(log S ± z·√Σ d/(n(n−d))),
// capped at 1; absent where S = 0. One step per distinct event time.
struct SurvivalStep {
  double time = 0;
  int at_risk = 0;
  int events = 0;
  int censored = 0;  // censored at this time (after the events)
  double survival = 1;
  std::optional<double> lower;
  std::optional<double> upper;
};
struct SurvivalSubject {
  double time = 0;
  bool event = false;  // false: censored at `time`
};
std::vector<SurvivalStep> KaplanMeier(const std::vector<SurvivalSubject>& subjects, double z = kZ95);

}  // namespace regenpath::registry

#endif  // REGENPATH_REGISTRY_STATISTICS_H_
