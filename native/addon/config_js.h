// ModelConfig <-> the JavaScript object of official snake_case keys (lib/config.ts maps camelCase).
#pragma once

#include <napi.h>

#include "core/config.h"

namespace trm::addon {

ModelConfig config_from_js(Napi::Env env, const Napi::Object& o);
Napi::Object config_to_js(Napi::Env env, const ModelConfig& c);

}  // namespace trm::addon
