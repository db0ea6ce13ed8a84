#!/usr/bin/env Rscript
# Computes the expected values of tests/registry/stats/fixture.txt with R's own implementations
# (t.test, prop.test without continuity correction = the Wilson score interval, survival::survfit
# with its default "log" Greenwood interval) and prints them in the format of expected.txt.
# Regenerate: Rscript tests/registry/stats/expected.R tests/registry/stats/fixture.txt > tests/registry/stats/expected.txt
# The test registry_stats_expected_current (tests/CMakeLists.txt) checks that the committed file is what R computes now.
suppressPackageStartupMessages(library(survival))
args <- commandArgs(trailingOnly = TRUE)
fmt <- function(x) ifelse(is.na(x), "NA", sprintf("%.17g", x))
for (line in readLines(args[1])) {
  if (startsWith(line, "#") || nchar(line) == 0) next
  f <- strsplit(line, " ")[[1]]
  kind <- f[1]; id <- f[2]
  if (kind == "mean") {
    x <- as.numeric(f[-(1:2)])
    ci <- t.test(x)$conf.int
    cat("mean", id, length(x), fmt(mean(x)), fmt(sd(x)), fmt(ci[1]), fmt(ci[2]), "\n")
  } else if (kind == "prop") {
    k <- as.integer(f[3]); n <- as.integer(f[4])
    ci <- suppressWarnings(prop.test(k, n, correct = FALSE)$conf.int)
    cat("prop", id, k, n, fmt(k / n), fmt(ci[1]), fmt(ci[2]), "\n")
  } else if (kind == "km") {
    pairs <- strsplit(f[-(1:2)], ":")
    time <- as.numeric(sapply(pairs, `[`, 1)); status <- as.integer(sapply(pairs, `[`, 2))
    s <- summary(survfit(Surv(time, status) ~ 1, conf.type = "log"))
    for (i in seq_along(s$time)) {
      cat("km", id, fmt(s$time[i]), s$n.risk[i], s$n.event[i], fmt(s$surv[i]), fmt(s$lower[i]), fmt(s$upper[i]), "\n")
    }
  }
}
