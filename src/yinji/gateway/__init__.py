"""LLM privacy gateway: find personal data in prompts, pseudonymise it, restore it in answers.

Staff tools talk to this OpenAI-compatible proxy instead of the model provider. Personal values
never leave: they are replaced by placeholders kept in a vault in memory, one vault per
(authenticated caller, conversation), and put back into the model's answer (also when
streamed, tool-call arguments included). See docs/gateway.md and docs/SECURITY.md.

Leakage: the upstream model sees every forwarded string (message contents, participant names,
tool calls, tool definitions, tool results, other request fields) with detected values
replaced; it learns the categories and the number of distinct values (placeholders are
numbered), and any personal value the detectors missed. Media it cannot scan is refused unless
a route allows it. A caller gets values back only from its own vault; without client tokens
there are no conversation vaults. The audit log records categories and counts, never values;
client-chosen metadata only with detected values replaced, conversation ids as keyed digests.
"""
