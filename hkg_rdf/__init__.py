"""hkg-rdf: the Hugging Face Hub knowledge graph (HuggingKG) as Linked Data."""
