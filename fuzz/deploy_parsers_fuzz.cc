// Fuzzes every parser that reads deploy documents a device receives or keeps:
// the bundle manifest, signature files, channel files, rollout policies and the
// store's state.json. Each must reject or accept any bytes without crashing,
// and whatever it accepts must survive its own serializer.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/check.h"
#include "base/json.h"
#include "deploy/channel.h"
#include "deploy/keys.h"
#include "deploy/manifest.h"
#include "deploy/rollout.h"
#include "deploy/store.h"

using namespace hearth;
using namespace hearth::deploy;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (Result<Manifest> m = ParseManifest(text); m.ok()) {
    Result<Manifest> again = ParseManifest(SerializeManifest(*m));
    HEARTH_CHECK(again.ok(), "a parsed manifest must serialize to a parsable one");
    HEARTH_CHECK(SerializeManifest(*again) == SerializeManifest(*m), "manifest round trip");
  }
  (void)ParseSignatureFile(text);
  TrustedKeys none;
  (void)CheckSignatures("message", text, none, nullptr);
  if (Result<Channel> c = ParseChannel(text); c.ok()) {
    Result<Channel> again = ParseChannel(SerializeChannel(*c));
    HEARTH_CHECK(again.ok(), "channel round trip");
  }
  if (Result<StoreState> s = ParseStoreState(text); s.ok())
    HEARTH_CHECK(ParseStoreState(SerializeStoreState(*s)).ok(), "state round trip");
  if (Result<json::Value> v = json::Parse(text); v.ok()) {
    if (Result<RolloutPolicy> p = ParseRolloutPolicy(*v); p.ok())
      HEARTH_CHECK(ParseRolloutPolicy(RolloutPolicyToJson(*p)).ok(), "policy round trip");
  }
  return 0;
}
