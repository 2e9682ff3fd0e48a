// A configuration error located at a YAML node (file:line:column), said once for every
// parser of config.yaml's sections.
#pragma once

#include <string>

#include <yaml-cpp/yaml.h>

#include "config/config.h"

namespace tether {

inline ConfigError config_error_at(const std::string& file, const YAML::Node& node, std::string message,
                                   std::string hint = {}) {
    ConfigError e{file, 0, 0, std::move(message), std::move(hint)};
    if (node.IsDefined()) {
        e.line = node.Mark().line + 1;
        e.column = node.Mark().column + 1;
    }
    return e;
}

}  // namespace tether
