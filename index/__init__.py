"""The knowledge side of articlebot: read → clean → split → embed → store → search."""
