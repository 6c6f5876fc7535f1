// UTF-8 checks for untrusted names and strings (pickles, zip entries, safetensors headers, messages).
#pragma once

#include <cstddef>
#include <string>

namespace trm::io {

/** True when [p, p + n) is well-formed UTF-8 (no overlong forms, surrogates or code points > U+10FFFF). */
bool valid_utf8(const char* p, size_t n);

/** `s` with every byte that is not part of well-formed UTF-8 shown as \xNN, for error messages. */
std::string printable(const std::string& s);

}  // namespace trm::io
