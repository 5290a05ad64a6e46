"""The conversation side of articlebot: question → retrieve → prompt → LLM → checked citations → reply."""
