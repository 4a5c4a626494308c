// Update channels: a signed pointer, on any static origin, to the bundle a
// device on that channel should run (DESIGN §7).
//
//   <origin>/channels/<channel>.json       the channel file
//   <origin>/channels/<channel>.json.sig   hearth.sig/v1 signature over its bytes
//   <origin>/bundles/<bundle_id>.tar       the bundle (any URL the channel names)
//
// Channel file:
//   {"schema": "hearth.channel/v1", "channel": "stable", "sequence": 7,
//    "bundle": {"bundle_id": "tiny-chat-1.2.0", "version_counter": 1002000,
//               "url": "bundles/tiny-chat-1.2.0.tar", "size": 123, "sha256": "…"},
//    "rollout": {"rollout_permille": 120, "salt": "…", "eligibility": {…}}}
// `url` is relative to the origin or absolute (http, https, file). `sequence`
// only grows: a device refuses a channel file older than one it has seen (an
// attacker replaying an old, validly signed file cannot freeze or downgrade it).
#pragma once

#include <optional>
#include <string>

#include "base/status.h"
#include "deploy/keys.h"
#include "deploy/rollout.h"

namespace hearth::deploy {

struct ChannelBundle {
  std::string bundle_id;
  uint64_t version_counter = 0;
  std::string url;
  uint64_t size = 0;
  std::string sha256;
};

struct Channel {
  std::string channel;
  uint64_t sequence = 0;
  ChannelBundle bundle;
  RolloutPolicy rollout;
};

Result<Channel> ParseChannel(std::string_view text);
std::string SerializeChannel(const Channel& c);

// Writes a bundle tar into an origin directory and points a signed channel
// file at it (what a release pipeline uploads to its object store / CDN).
struct PublishOptions {
  std::string bundle_tar;
  std::string origin_dir;
  std::string channel = "stable";
  std::optional<uint64_t> sequence;  // default: the current file's sequence + 1
  RolloutPolicy rollout;             // rollout_permille defaults to 1000 in the CLI
  const SecretKey* key = nullptr;
};
Result<Channel> Publish(const PublishOptions& options);

// Joins an origin ("http://host/x", "/srv/origin", "file:///srv/origin") and a
// relative path; absolute URLs in `rel` are returned as they are.
std::string JoinOrigin(const std::string& origin, const std::string& rel);

}  // namespace hearth::deploy
