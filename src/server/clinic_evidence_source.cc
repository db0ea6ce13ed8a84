#include "server/clinic_evidence_source.h"

namespace regenpath::server {

ClinicEvidenceSource::ClinicEvidenceSource(registry::RegistryStore* store, const registry::InstrumentCatalog* catalog,
                                           int min_episodes, int ttl_seconds)
    : store_(store), catalog_(catalog), min_episodes_(min_episodes), ttl_(ttl_seconds) {}

Result<std::optional<engine::ClinicEvidence>> ClinicEvidenceSource::ForOption(const std::string& option_id,
                                                                             const std::string& today) {
  auto now = std::chrono::steady_clock::now();
  if (ttl_.count() > 0) {
    std::lock_guard lock(mutex_);
    auto found = cache_.find(option_id);
    if (found != cache_.end() && found->second.today == today && now - found->second.at < ttl_) {
      return found->second.evidence;
    }
  }
  RP_ASSIGN_OR_RETURN(registry::ClinicEvidence evidence,
                      registry::ClinicEvidenceFor(*store_, *catalog_, option_id, min_episodes_, today));
  std::optional<engine::ClinicEvidence> out;
  if (evidence.shown && !evidence.synthetic && evidence.responders.p && evidence.responders.lower &&
      evidence.responders.upper) {
    engine::ClinicEvidence shown;
    shown.episodes = evidence.episodes;
    shown.instrument = evidence.instrument;
    shown.weeks = evidence.weeks;
    shown.responders = evidence.responders.successes;
    shown.assessed = evidence.responders.n;
    shown.rate = *evidence.responders.p;
    shown.lower = *evidence.responders.lower;
    shown.upper = *evidence.responders.upper;
    shown.lost_to_follow_up = evidence.lost_to_follow_up;
    shown.summary = evidence.summary;
    out = std::move(shown);
  }
  if (ttl_.count() > 0) {
    std::lock_guard lock(mutex_);
    cache_[option_id] = Cached{out, today, now};
  }
  return out;
}

Status ClinicEvidenceSource::Attach(engine::Assessment& assessment, const std::string& today) {
  for (engine::Recommendation& recommendation : assessment.recommendations) {
    if (recommendation.category != engine::OptionCategory::kRegenerative) continue;
    if (catalog_->kb().FindOption(recommendation.id) == nullptr) continue;
    RP_ASSIGN_OR_RETURN(std::optional<engine::ClinicEvidence> evidence, ForOption(recommendation.id, today));
    recommendation.clinic_evidence = std::move(evidence);
  }
  return Status::Ok();
}

}  // namespace regenpath::server
