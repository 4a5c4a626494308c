// Fallback chat templates, written for this project in the template language
// itself so they go through the same interpreter as models' own templates.
#include <array>
#include <utility>

#include "tokenizer/chat/template.h"

namespace hearth::chat {
namespace {

constexpr std::string_view kChatml =
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";

constexpr std::string_view kLlama2 =
    "{%- if messages and messages[0].role == 'system' %}"
    "{%- set system = '<<SYS>>\\n' + messages[0].content + '\\n<</SYS>>\\n\\n' %}"
    "{%- set rest = messages[1:] %}"
    "{%- else %}{%- set system = '' %}{%- set rest = messages %}{%- endif %}"
    "{%- for message in rest %}"
    "{%- if message.role == 'user' %}"
    "{{- bos_token ~ '[INST] ' ~ (system if loop.first else '') ~ message.content | trim ~ "
    "' [/INST]' }}"
    "{%- elif message.role == 'assistant' %}"
    "{{- ' ' ~ message.content | trim ~ ' ' ~ eos_token }}"
    "{%- endif %}"
    "{%- endfor %}";

constexpr std::string_view kLlama3 =
    "{{- bos_token }}"
    "{%- for message in messages %}"
    "{{- '<|start_header_id|>' + message.role + '<|end_header_id|>\\n\\n' + message.content | "
    "trim + '<|eot_id|>' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}"
    "{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}"
    "{%- endif %}";

constexpr std::string_view kGemma =
    "{{- bos_token }}"
    "{%- set ns = namespace(prefix='') %}"
    "{%- for message in messages %}"
    "{%- if message.role == 'system' %}"
    "{%- set ns.prefix = ns.prefix + message.content | trim + '\\n\\n' %}"
    "{%- else %}"
    "{{- '<start_of_turn>' + ('model' if message.role == 'assistant' else message.role) + "
    "'\\n' + (ns.prefix if message.role == 'user' else '') + message.content | trim + "
    "'<end_of_turn>\\n' }}"
    "{%- if message.role == 'user' %}{%- set ns.prefix = '' %}{%- endif %}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<start_of_turn>model\\n' }}{%- endif %}";

constexpr std::string_view kPhi3 =
    "{%- for message in messages %}"
    "{{- '<|' + message.role + '|>\\n' + message.content + '<|end|>\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|assistant|>\\n' }}{%- endif %}";

constexpr std::array<std::pair<std::string_view, std::string_view>, 5> kTemplates = {{
    {"chatml", kChatml},
    {"llama2", kLlama2},
    {"llama3", kLlama3},
    {"gemma", kGemma},
    {"phi3", kPhi3},
}};

}  // namespace

std::string_view BuiltinTemplate(std::string_view name) {
  for (const auto& [n, source] : kTemplates) {
    if (n == name) return source;
  }
  return {};
}

std::vector<std::string_view> BuiltinTemplateNames() {
  std::vector<std::string_view> out;
  for (const auto& [n, unused] : kTemplates) out.push_back(n);
  return out;
}

}  // namespace hearth::chat
