"""LLM privacy gateway: find personal data in prompts, pseudonymise it, restore it in answers.

Staff tools talk to this OpenAI-compatible proxy instead of the model provider. Personal values
never leave: they are replaced by per-conversation placeholders kept in a vault in memory, and
put back into the model's answer (also when streamed). See docs/gateway.md.

Leakage: the upstream model sees the request text with detected values replaced; it learns the
categories and the number of distinct values (placeholders are numbered), and any personal value
the detectors missed. The audit log records categories and counts, never values.
"""
