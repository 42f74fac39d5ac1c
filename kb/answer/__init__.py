"""From a question to a cited answer: question analysis, sentence features, abstention, composition, the optional LLM mode."""
