// PII scrubbing, log previews and prompt hashing (book 12.3 and 13.4).
//
// These run on user text that is about to reach a log, so they are written
// as small hand-made scanners (no std::regex: no backtracking blow-ups, no
// locale), they only ever match ASCII bytes, and they never split a UTF-8
// sequence.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace hearth::server {

// Replaces, in this order:
//  * e-mail addresses, the book's [A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}
//    (leftmost, greedy, like the regex), with "[EMAIL]";
//  * phone numbers and long IDs, the book's \b\+?\d[\d\s-]{7,}\b (leftmost,
//    greedy, \d = [0-9], \s = ASCII whitespace, \w = [A-Za-z0-9_]), with
//    "[PHONE_OR_ID]". Whatever the regex matches is replaced, with two
//    changes that never reveal a digit the regex would hide: a '+' right
//    before the match is replaced too (the regex's \b cannot sit between a
//    space and '+', so it left "+" behind), and spaces/dashes at the end of
//    the match stay in the text ("call 555-123-4567 now" keeps its space).
//    Bytes >= 0x80 count as non-word characters, so a number written right
//    after CJK text is still found (Python's Unicode \b would not find it).
// Over-matching is the safe direction here: "order 12345678" becomes
// "order [PHONE_OR_ID]".
std::string ScrubPii(std::string_view text);

// A short, safe excerpt for logs, made in this order on the whole text:
//  1. invalid UTF-8 bytes become U+FFFD; tab, CR, LF and U+2028/U+2029 become
//     spaces (so words stay apart); every other control character (C0, DEL,
//     C1) and the bidi overrides/isolates (U+202A-E, U+2066-9) are removed;
//  2. PII is scrubbed (when scrub_pii) -- after step 1, so a control byte
//     inside an address cannot hide it, and before step 3, so an address cut
//     in half cannot escape the pattern;
//  3. the result is cut to at most max_code_points code points.
std::string PreviewText(std::string_view text, size_t max_code_points = 80, bool scrub_pii = true);

// "sha256:" + lower-case hex SHA-256 of `text` with line endings normalized
// (CRLF and lone CR become LF). Whitespace is NOT collapsed and nothing else
// changes, so the hash identifies the exact text modulo line endings. This is
// the one definition of prompt_hash and output_hash (ambiguity 36: 12.3 hashed
// a whitespace-collapsed text, 13.4 the raw text with bare hex). What text
// goes in is the caller's choice; for correlation across requests the useful
// input is the prompt as rendered for the model (after the chat template) and
// the output text exactly as returned to the client.
std::string PromptHash(std::string_view text);

}  // namespace hearth::server
