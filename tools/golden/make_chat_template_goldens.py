#!/usr/bin/env python3
"""Chat-template goldens: transformers' apply_chat_template on ChatML (Qwen2), Llama-3 and Mistral
templates, for lora4j-chat's ChatTemplate tests.

Run from the repository root:  $(/work/shared/tools/python-env) tools/golden/make_chat_template_goldens.py

For each template it writes lora4j-chat/src/test/resources/golden/chat_templates/<name>/:
  tokenizer_config.json  chat_template, bos_token and eos_token as a model directory has them
                         (the token strings in both styles: plain, and {"content": ...} dicts);
  expected.json          conversations (with and without a system message, one and several turns)
                         rendered with add_generation_prompt false and true, and the conversations
                         transformers refuses (raise_exception in the template) with its message.
The templates are written here in the form the model families publish them (ChatML as in Qwen2,
the Llama-3 Instruct template, the Mistral v0.3 Instruct template that folds the system message into
the last user turn). Rendering goes through a real tokenizer object (the committed Qwen2 test
tokenizer.json) so that transformers' own Jinja environment (trim_blocks, lstrip_blocks,
raise_exception, tojson, ...) does the work.
"""
import json
import os

from transformers import PreTrainedTokenizerFast

OUT = os.path.join("lora4j-chat", "src", "test", "resources", "golden", "chat_templates")
TOKENIZER = os.path.join("lora4j-core", "src", "test", "resources", "golden", "tokenizers", "qwen2_bytelevel.json")

CHATML = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}"
    "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)

LLAMA3 = (
    "{% set loop_messages = messages %}{% for message in loop_messages %}"
    "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' %}"
    "{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}"
)

MISTRAL = """{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content'] %}
    {%- set loop_messages = messages[1:] %}
{%- else %}
    {%- set loop_messages = messages %}
{%- endif %}

{{- bos_token }}
{%- for message in loop_messages %}
    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}
        {{- raise_exception('After the optional system message, conversation roles must alternate user/assistant/user/assistant/...') }}
    {%- endif %}
    {%- if message['role'] == 'user' %}
        {%- if loop.last and system_message is defined %}
            {{- '[INST] ' + system_message + '\\n\\n' + message['content'] + '[/INST]' }}
        {%- else %}
            {{- '[INST] ' + message['content'] + '[/INST]' }}
        {%- endif %}
    {%- elif message['role'] == 'assistant' %}
        {{- ' ' + message['content']|trim + eos_token}}
    {%- else %}
        {{- raise_exception('Only user and assistant roles are supported, with the exception of an initial optional system message!') }}
    {%- endif %}
{%- endfor %}
"""

SYSTEM = {"role": "system", "content": "You are a terse pirate. Answer in one line."}
U1 = {"role": "user", "content": "Hello! Who are you?"}
A1 = {"role": "assistant", "content": "  Arr, a pirate I be.  "}
U2 = {"role": "user", "content": "Tell me a joke,\nplease — with ünïcödé 🙂."}

CONVERSATIONS = {
    "user": [U1],
    "system_user": [SYSTEM, U1],
    "multi_turn": [U1, A1, U2],
    "system_multi_turn": [SYSTEM, U1, A1, U2],
    "ends_with_assistant": [U1, A1],
}

TEMPLATES = {
    "chatml_qwen2": (CHATML, "<|endoftext|>", "<|im_end|>", False),
    "llama3": (LLAMA3, "<|begin_of_text|>", "<|eot_id|>", True),
    "mistral": (MISTRAL, "<s>", "</s>", True),
}

REFUSED = {"assistant_first": [A1, U1], "tool_role": [U1, {"role": "tool", "content": "42"}]}


def main():
    for name, (template, bos, eos, dict_tokens) in TEMPLATES.items():
        tok = PreTrainedTokenizerFast(tokenizer_file=TOKENIZER, bos_token=bos, eos_token=eos)
        tok.chat_template = template
        cases = []
        for conv_name, messages in CONVERSATIONS.items():
            for gen in (False, True):
                text = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=gen)
                cases.append({"name": conv_name, "add_generation_prompt": gen, "messages": messages, "text": text})
        refused = []
        for conv_name, messages in REFUSED.items():
            try:
                tok.apply_chat_template(messages, tokenize=False)
            except Exception as e:  # transformers raises TemplateError from raise_exception
                refused.append({"name": conv_name, "messages": messages, "error": str(e)})
        directory = os.path.join(OUT, name)
        os.makedirs(directory, exist_ok=True)
        token = (lambda t: {"content": t, "lstrip": False, "normalized": False, "rstrip": False,
                            "single_word": False, "special": True}) if dict_tokens else (lambda t: t)
        config = {"bos_token": token(bos), "eos_token": token(eos), "chat_template": template,
                  "tokenizer_class": "PreTrainedTokenizerFast"}
        with open(os.path.join(directory, "tokenizer_config.json"), "w") as f:
            json.dump(config, f, indent=2, ensure_ascii=False)
        with open(os.path.join(directory, "expected.json"), "w") as f:
            json.dump({"cases": cases, "refused": refused}, f, indent=1, ensure_ascii=False)
        print(name, len(cases), "cases,", len(refused), "refused")


if __name__ == "__main__":
    main()
