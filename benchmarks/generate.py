#!/usr/bin/env python3
"""Generate a synthetic HuggingKG release, for benchmarks and scale tests.

    python benchmarks/generate.py --scale 0.01 -o OUTDIR [--seed 0]

writes ``OUTDIR/HuggingKG_V20241215000000/`` (the 8 entity files and the 30 relation files, laid
out like the published release: JSON arrays pretty-printed with ``indent=1``) and
``OUTDIR/triples.txt`` (one edge per line, ``head<TAB>relation<TAB>tail``).  From Python::

    from benchmarks.generate import generate
    counts = generate(Path("out"), scale=0.01, seed=0)   # {"models.json": 12027, ...}

What the data looks like
------------------------
* Counts: every entity type and relation has ``round(scale * published count)`` records (the
  published counts of HuggingKG); there are always the 52 tasks.
* Ids look like Hub ids: ``owner/name`` where the owner is a generated user or organization
  (the publish and own edges agree with that owner), arXiv ids old and new style, collection slugs
  ``owner/title-slug-<24 hex>``.  Ids are unique per type, user and org names never clash.
* Degrees are skewed: every type has a popularity ranking and edge ends are drawn from a Zipf law
  over it, so a few models get thousands of likes or derivatives and most get none.
* Lineage (adapter / finetune / merge / quantized) goes from a more popular base to a derived
  model, so it never has self loops or cycles; each derived model has one base (merges 2-3).
* No dangling ends, no duplicate edge within a relation file.
* Attributes: ~10-20 % nulls in nullable scalars, dates 2019..2024-12-15 with
  lastModified >= createdAt, heavy-tailed downloads, likes consistent with the like edges,
  pipeline_tag / dataset tasks / dataset arXiv tags consistent with the edges, lists of labels
  from realistic vocabularies, README-like markdown descriptions (log-normal lengths, median
  ~1.5 KB, up to 100 KB, ~30 % of models without one) cut from a pre-built text buffer.
* Deterministic for a given (scale, seed).

Memory stays small: records are written as they are made; only the id arrays (numpy byte
strings) and a few integer arrays per type are kept, never the records or the texts.
"""

from __future__ import annotations

import argparse
import json
from array import array
import random
import re
import sys
import time
import unicodedata
import zlib

try:
    import resource
except ImportError:  # not on Windows
    resource = None
from json.encoder import encode_basestring as _q  # C string quoting, keeps non-ASCII as is
from pathlib import Path

import numpy as np

RELEASE_NAME = "HuggingKG_V20241215000000"

# type -> (entity file stem, published count)
ENTITY_FILES: dict[str, tuple[str, int]] = {
    "task": ("tasks", 52),
    "model": ("models", 1_202_732),
    "dataset": ("datasets", 261_663),
    "space": ("spaces", 307_789),
    "paper": ("papers", 15_857),
    "collection": ("collections", 79_543),
    "user": ("users", 729_401),
    "org": ("orgs", 17_233),
}

# (file stem, subject key, object key, subject type, object type, published count), in file order
RELATIONS: list[tuple[str, str, str, str, str, int]] = [
    ("model_definedFor_task", "model_id", "task_id", "model", "task", 532_391),
    ("model_adapter_model", "base_model_id", "model_id", "model", "model", 155_642),
    ("model_finetune_model", "base_model_id", "model_id", "model", "model", 107_162),
    ("model_merge_model", "base_model_id", "model_id", "model", "model", 20_003),
    ("model_quantized_model", "base_model_id", "model_id", "model", "model", 45_809),
    ("model_trainedOrFineTunedOn_dataset", "model_id", "dataset_id", "model", "dataset", 96_546),
    ("model_cite_paper", "model_id", "arxiv_id", "model", "paper", 272_455),
    ("dataset_definedFor_task", "dataset_id", "task_id", "dataset", "task", 38_193),
    ("dataset_cite_paper", "dataset_id", "arxiv_id", "dataset", "paper", 10_411),
    ("space_use_model", "space_id", "model_id", "space", "model", 312_904),
    ("space_use_dataset", "space_id", "dataset_id", "space", "dataset", 5_071),
    ("collection_contain_model", "collection_slug", "model_id", "collection", "model", 134_515),
    ("collection_contain_dataset", "collection_slug", "dataset_id", "collection", "dataset", 40_771),
    ("collection_contain_space", "collection_slug", "space_id", "collection", "space", 53_833),
    ("collection_contain_paper", "collection_slug", "paper_id", "collection", "paper", 42_980),
    ("user_publish_model", "user_id", "model_id", "user", "model", 1_073_429),
    ("user_publish_dataset", "user_id", "dataset_id", "user", "dataset", 197_226),
    ("user_publish_space", "user_id", "space_id", "user", "space", 294_808),
    ("user_publish_paper", "user_id", "paper_id", "user", "paper", 25_999),
    ("user_own_collection", "user_id", "collection_slug", "user", "collection", 74_089),
    ("user_like_model", "user_id", "model_id", "user", "model", 1_144_281),
    ("user_like_dataset", "user_id", "dataset_id", "user", "dataset", 236_419),
    ("user_like_space", "user_id", "space_id", "user", "space", 586_316),
    ("user_follow_user", "follower_id", "followee_id", "user", "user", 306_135),
    ("user_follow_org", "user_id", "org_id", "user", "org", 170_232),
    ("user_affiliatedWith_org", "user_id", "org_id", "user", "org", 57_220),
    ("org_publish_model", "org_id", "model_id", "org", "model", 128_804),
    ("org_publish_dataset", "org_id", "dataset_id", "org", "dataset", 64_300),
    ("org_publish_space", "org_id", "space_id", "org", "space", 12_956),
    ("org_own_collection", "org_id", "collection_slug", "org", "collection", 5_453),
]

# Relations drawn as (subject sampler, object sampler): (type, popularity role, Zipf exponent).
# Role "pop" is how popular an item is (liked, used, followed), "act" how active (likes, follows);
# "uniform" ignores popularity, "pool" draws from a fixed random subset, "task" from task weights.
_GENERIC: dict[str, tuple[tuple, tuple]] = {
    "model_trainedOrFineTunedOn_dataset": (("model", "act", 0.3), ("dataset", "pop", 1.0)),
    "model_cite_paper": (("model", "act", 0.4), ("paper", "pop", 0.9)),
    "dataset_definedFor_task": (("dataset", "pool", 1.3), ("task", "task", 1)),
    "dataset_cite_paper": (("dataset", "act", 0.3), ("paper", "pop", 0.8)),
    "space_use_model": (("space", "act", 0.7), ("model", "pop", 1.0)),
    "space_use_dataset": (("space", "act", 0.5), ("dataset", "pop", 0.9)),
    "collection_contain_model": (("collection", "act", 0.5), ("model", "pop", 0.9)),
    "collection_contain_dataset": (("collection", "act", 0.5), ("dataset", "pop", 0.9)),
    "collection_contain_space": (("collection", "act", 0.5), ("space", "pop", 0.9)),
    "collection_contain_paper": (("collection", "act", 0.5), ("paper", "pop", 0.8)),
    "user_publish_paper": (("user", "pop", 0.5), ("paper", "uniform", 0)),
    "user_like_model": (("user", "act", 0.8), ("model", "pop", 0.85)),
    "user_like_dataset": (("user", "act", 0.8), ("dataset", "pop", 0.85)),
    "user_like_space": (("user", "act", 0.8), ("space", "pop", 0.85)),
    "user_follow_user": (("user", "act", 0.7), ("user", "pop", 1.0)),
    "user_follow_org": (("user", "act", 0.6), ("org", "pop", 1.0)),
    "user_affiliatedWith_org": (("user", "act", 0.2), ("org", "pop", 0.6)),
}
_LINEAGE = ("adapter", "finetune", "quantized", "merge")  # kind codes 1..4 in this order

# ------------------------------------------------------------------------------ vocabularies

# (id, label, weight among models' pipeline tags, weight among datasets' task categories)
TASKS = [
    ("text-generation", "Text Generation", 30, 25),
    ("text2text-generation", "Text2Text Generation", 4, 4),
    ("text-classification", "Text Classification", 12, 18),
    ("token-classification", "Token Classification", 4, 5),
    ("fill-mask", "Fill-Mask", 3, 1),
    ("question-answering", "Question Answering", 3, 9),
    ("table-question-answering", "Table Question Answering", 0.2, 0.8),
    ("zero-shot-classification", "Zero-Shot Classification", 0.5, 0.6),
    ("translation", "Translation", 2, 5),
    ("summarization", "Summarization", 1.5, 3),
    ("feature-extraction", "Feature Extraction", 3, 2),
    ("sentence-similarity", "Sentence Similarity", 3, 2),
    ("text-to-image", "Text-to-Image", 10, 2.5),
    ("image-to-text", "Image-to-Text", 1, 2),
    ("image-text-to-text", "Image-Text-to-Text", 1.5, 1.5),
    ("visual-question-answering", "Visual Question Answering", 0.4, 1.5),
    ("document-question-answering", "Document Question Answering", 0.2, 0.4),
    ("image-classification", "Image Classification", 4, 4),
    ("object-detection", "Object Detection", 1, 2),
    ("image-segmentation", "Image Segmentation", 0.6, 1.2),
    ("image-to-image", "Image-to-Image", 0.6, 0.6),
    ("image-to-video", "Image-to-Video", 0.1, 0.1),
    ("unconditional-image-generation", "Unconditional Image Generation", 0.5, 0.3),
    ("depth-estimation", "Depth Estimation", 0.1, 0.2),
    ("zero-shot-image-classification", "Zero-Shot Image Classification", 0.3, 0.3),
    ("mask-generation", "Mask Generation", 0.1, 0.1),
    ("zero-shot-object-detection", "Zero-Shot Object Detection", 0.05, 0.1),
    ("image-feature-extraction", "Image Feature Extraction", 0.3, 0.2),
    ("video-classification", "Video Classification", 0.3, 0.3),
    ("text-to-video", "Text-to-Video", 0.1, 0.3),
    ("video-text-to-text", "Video-Text-to-Text", 0.05, 0.1),
    ("automatic-speech-recognition", "Automatic Speech Recognition", 4, 3),
    ("text-to-speech", "Text-to-Speech", 0.6, 1),
    ("text-to-audio", "Text-to-Audio", 0.3, 0.3),
    ("audio-to-audio", "Audio-to-Audio", 0.2, 0.2),
    ("audio-classification", "Audio Classification", 0.8, 0.8),
    ("audio-text-to-text", "Audio-Text-to-Text", 0.05, 0.05),
    ("voice-activity-detection", "Voice Activity Detection", 0.02, 0.1),
    ("reinforcement-learning", "Reinforcement Learning", 5, 0.4),
    ("robotics", "Robotics", 0.2, 0.6),
    ("tabular-classification", "Tabular Classification", 0.2, 0.8),
    ("tabular-regression", "Tabular Regression", 0.1, 0.3),
    ("tabular-to-text", "Tabular to Text", 0.01, 0.1),
    ("table-to-text", "Table to Text", 0.02, 0.2),
    ("multiple-choice", "Multiple Choice", 0.2, 1.2),
    ("text-retrieval", "Text Retrieval", 0.1, 0.8),
    ("time-series-forecasting", "Time Series Forecasting", 0.2, 0.3),
    ("graph-ml", "Graph Machine Learning", 0.05, 0.2),
    ("text-to-3d", "Text-to-3D", 0.02, 0.05),
    ("image-to-3d", "Image-to-3D", 0.03, 0.03),
    ("keypoint-detection", "Keypoint Detection", 0.02, 0.05),
    ("any-to-any", "Any-to-Any", 0.05, 0.02),
]
assert len(TASKS) == 52 and len({t[0] for t in TASKS}) == 52

KNOWN_ORGS = [
    ("google", "Google"), ("meta-llama", "Meta Llama"), ("microsoft", "Microsoft"),
    ("openai", "OpenAI"), ("mistralai", "Mistral AI_"), ("Qwen", "Qwen"),
    ("stabilityai", "Stability AI"), ("nvidia", "NVIDIA"), ("facebook", "AI at Meta"),
    ("huggingface", "Hugging Face"), ("HuggingFaceH4", "Hugging Face H4"),
    ("HuggingFaceTB", "Hugging Face Smol Models Research"), ("HuggingFaceFW", "FineData"),
    ("bigscience", "BigScience Workshop"), ("EleutherAI", "EleutherAI"), ("allenai", "Ai2"),
    ("deepseek-ai", "DeepSeek"), ("black-forest-labs", "Black Forest Labs"),
    ("tiiuae", "Technology Innovation Institute"),
    ("BAAI", "Beijing Academy of Artificial Intelligence"),
    ("sentence-transformers", "Sentence Transformers"), ("unsloth", "Unsloth AI"),
    ("lmstudio-community", "LM Studio Community"), ("NousResearch", "NousResearch"),
    ("cognitivecomputations", "Cognitive Computations"), ("01-ai", "01-ai"),
    ("THUDM", "Knowledge Engineering Group (KEG) & Data Mining at Tsinghua University"),
    ("internlm", "InternLM"), ("openbmb", "OpenBMB"), ("Salesforce", "Salesforce"),
    ("amazon", "Amazon"), ("apple", "Apple"), ("ibm-granite", "IBM Granite"),
    ("CohereForAI", "Cohere For AI"), ("databricks", "Databricks"), ("mosaicml", "Mosaic ML"),
    ("cardiffnlp", "Cardiff NLP"),
    ("Helsinki-NLP", "Language Technology Research Group at the University of Helsinki"),
    ("openai-community", "OpenAI community"), ("google-bert", "BERT community"),
    ("FacebookAI", "Facebook AI community"), ("distilbert", "DistilBERT community"),
    ("runwayml", "Runway"), ("CompVis", "CompVis"), ("timm", "PyTorch Image Models"),
    ("speechbrain", "SpeechBrain"), ("pyannote", "pyannote"), ("espnet", "ESPnet"),
    ("dbmdz", "Bayerische Staatsbibliothek"), ("hfl", "Joint Laboratory of HIT and iFLYTEK Research (HFL)"),
    ("cl-tohoku", "Tohoku NLP Group"), ("rinna", "rinna株式会社"), ("ai-forever", "ai-forever"),
    ("llava-hf", "Llava Hugging Face"), ("lmsys", "Large Model Systems Organization"),
    ("stanfordnlp", "Stanford NLP"), ("open-llm-leaderboard", "Open LLM Leaderboard"),
]
KNOWN_USERS = [
    ("TheBloke", "Tom Jobbins"), ("mradermacher", "team mradermacher"), ("bartowski", "Bartowski"),
    ("akhaliq", "AK"), ("mlabonne", "Maxime Labonne"), ("lewtun", "Lewis Tunstall"),
    ("osanseviero", "Omar Sanseviero"), ("julien-c", "Julien Chaumond"), ("merve", "merve"),
    ("abidlabs", "Abubakar Abid"), ("sayakpaul", "Sayak Paul"),
    ("multimodalart", "Apolinário from multimodal AI art"), ("ylacombe", "Yoach Lacombe"),
    ("thomwolf", "Thomas Wolf"), ("clem", "Clem 🤗"), ("LoneStriker", "Lone Striker"),
    ("RichardErkhov", "Richard Erkhov"), ("nateraw", "Nate Raw"), ("Xenova", "Joshua"),
    ("teknium", "Teknium"),
]

# (display form, ASCII form used in handles)
FIRST_NAMES = [
    (n, unicodedata.normalize("NFKD", n).encode("ascii", "ignore").decode().lower())
    for n in (
        "James Mary John Patricia Robert Jennifer Michael Linda David Elizabeth William Barbara "
        "Richard Susan Joseph Jessica Thomas Sarah Charles Karen Daniel Lisa Matthew Nancy Anthony "
        "Sandra Mark Ashley Steven Emily Andrew Michelle Joshua Laura Kevin Anna Brian Maria Omar "
        "Ahmed Fatima Wei Li Yuki Hiroshi Priya Arjun Rahul Ananya Chen Xin Jun Min Ji-woo Seo-yeon "
        "José Zoë Łukasz Jürgen François Søren Björn Chloé Matías Inés Ümit Çağla Dmitri Olga "
        "Sergei Ivan Katarzyna Piotr Lucas Léa Hugo Mateo Sofía Giulia Marco Luca Noah Emma Liam "
        "Olivia Mohammed Aisha Yusuf Hamza Tariq Nikhil Sneha Kenji Haruto Sakura Thanh Minh Duc"
    ).split()
]
LAST_NAMES = [
    (n, unicodedata.normalize("NFKD", n).encode("ascii", "ignore").decode().lower().replace("'", ""))
    for n in (
        "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez "
        "Gonzalez Wilson Anderson Taylor Moore Jackson Martin Lee Thompson White Harris Clark Lewis "
        "Walker Young Allen King Wright Scott Hill Green Adams Baker Nelson Carter Mitchell Roberts "
        "Müller Schmidt Schneider Fischer Weber Wagner Becker Dubois Lefèvre Moreau Rossi Russo "
        "Bianchi Kowalski Nowak Wiśniewski Ivanov Petrov Smirnov Novák Svoboda Nguyễn Trần Phạm "
        "Wang Zhang Liu Chen Yang Huang Zhao Wu Zhou Xu Sun Kim Park Choi Jung Tanaka Suzuki Sato "
        "Takahashi Watanabe Patel Sharma Singh Kumar Gupta Khan Ali Hassan Yılmaz Kaya Demir "
        "O'Brien O'Connor Ångström Jensen Nielsen Hansen Johansson Andersson Silva Santos Oliveira"
    ).split()
]
CJK_NAMES = "王伟 李娜 张敏 刘洋 陈静 杨帆 田中太郎 佐藤花子 김민준 이서연 李雷 韩梅梅".split()
HANDLE_WORDS = (
    "deep neural ai ml nlp llm data code quant tensor bit cyber pixel quantum vision byte lambda "
    "vector alpha beta gamma sigma turbo open smart dark silver blue red green crazy lazy happy wild "
    "tiny mega hyper ultra zen nova astro cosmic echo shadow ghost ninja wizard hacker coder dev lab "
    "bot bloke master king fox wolf panda tiger dragon cat owl bear rocket storm cloud river stone "
    "fire ice sun moon star spark flux neo meta omni prime infinite logic signal matrix kernel"
).split()
INSTITUTIONS = {
    "stanford": "Stanford", "tsinghua": "清华大学 Tsinghua University", "cmu": "CMU",
    "mit": "MIT", "ethz": "ETH Zürich", "kaist": "KAIST", "ucl": "UCL", "uw": "UW",
    "nyu": "NYU", "mila": "Mila", "inria": "Inria", "epfl": "EPFL",
    "tum": "Technische Universität München", "berkeley": "UC Berkeley", "sjtu": "SJTU",
    "pku": "Peking University", "zju": "Zhejiang University", "fudan": "Fudan University",
    "ntu": "NTU", "nus": "NUS", "kyoto": "Kyoto University 京都大学", "utokyo": "UTokyo",
    "snu": "Seoul National University", "iitb": "IIT Bombay", "umontreal": "Université de Montréal",
    "oxford": "Oxford", "cambridge": "Cambridge", "hku": "HKU", "ustc": "USTC", "upf": "UPF",
}
FIELDS = "nlp ai ml vision lab research speech robotics data llm group".split()

FAMILIES = (
    "Llama-3.1-8B Llama-3.1-8B-Instruct Llama-3.2-1B Llama-3.2-3B-Instruct Meta-Llama-3-8B "
    "Llama-2-7b-hf Llama-2-13b-chat-hf Mistral-7B-v0.1 Mistral-7B-Instruct-v0.3 Mixtral-8x7B "
    "Qwen2.5-0.5B Qwen2.5-1.5B-Instruct Qwen2.5-7B-Instruct Qwen2.5-72B Qwen2-VL-7B gemma-2-2b "
    "gemma-2-9b-it gemma-7b phi-2 Phi-3-mini-4k-instruct Phi-3.5-mini TinyLlama-1.1B gpt2 "
    "gpt2-medium distilgpt2 bert-base-uncased bert-base-cased bert-large-uncased "
    "distilbert-base-uncased roberta-base roberta-large xlm-roberta-base deberta-v3-base "
    "deberta-v3-large electra-small albert-base-v2 t5-small t5-base flan-t5-base flan-t5-large "
    "mt5-small bart-large bart-base pegasus-xsum whisper-tiny whisper-small whisper-medium "
    "whisper-large-v3 wav2vec2-base wav2vec2-large-xlsr-53 hubert-base vit-base-patch16-224 "
    "swin-tiny convnext-tiny resnet-50 detr-resnet-50 yolov8n segformer-b0 clip-vit-base-patch32 "
    "blip-image-captioning stable-diffusion-v1-5 stable-diffusion-xl-base-1.0 sd-turbo FLUX.1-dev "
    "FLUX.1-schnell controlnet-canny all-MiniLM-L6-v2 bge-small-en-v1.5 bge-m3 e5-base-v2 "
    "multilingual-e5-large opus-mt-en-de opus-mt-en-fr nllb-200-distilled-600M m2m100_418M "
    "codegen-350M starcoder2-3b deepseek-coder-6.7b CodeLlama-7b falcon-7b bloom-560m opt-125m "
    "opt-1.3b pythia-160m pythia-1b SmolLM-135M SmolLM2-1.7B OLMo-7B zephyr-7b-beta openchat-3.5 "
    "Hermes-3-Llama-3.1-8B dolphin-2.9 granite-3.0-2b Yi-1.5-6B internlm2-7b MiniCPM-2B"
).split()
TASKY = (
    "finetuned-squad finetuned-imdb finetuned-emotion finetuned-ner finetuned-cola finetuned-sst2 "
    "finetuned-mrpc finetuned-xsum finetuned-cnn finetuned-amazon finetuned-wikitext2 "
    "finetuned-common-voice finetuned-eurosat finetuned-food101 finetuned-beans finetuned-cifar10 "
    "sentiment ner qa chat instruct sft dpo orpo lora qlora merged v1 v2 v0.1 v0.2 final test "
    "trained demo checkpoint-500 checkpoint-1000 ep3 lr2e-5 bs16 es fr de ja ko zh ar hi vi ru "
    "pt it tr pl nl id med law fin code math reasoning uncensored abliterated roleplay german "
    "french japanese korean arabic summarizer classifier embedding distilled pruned 1e 3e"
).split()
NAME_PREFIXES = "my my_awesome test hf custom new best tiny mini super my-first".split()
RL_ALGOS = "ppo dqn a2c sac td3 qrdqn poca Reinforce".split()
RL_ENVS = (
    "LunarLander-v2 CartPole-v1 SpaceInvadersNoFrameskip-v4 PandaReachDense-v3 SoccerTwos "
    "HalfCheetah-v3 Huggy Pyramids SnowballTarget BreakoutNoFrameskip-v4 Taxi-v3 FrozenLake-v1 "
    "AntBulletEnv-v0 PixelCopter MountainCar-v0 Walker2DBulletEnv-v0"
).split()
QUANT_SUFFIXES = "GGUF GGUF GGUF GPTQ AWQ 4bit 8bit bnb-4bit Q4_K_M-GGUF Q8_0-GGUF exl2 mlx-4bit i1-GGUF fp8".split()
ADAPTER_SUFFIXES = "lora LoRA qlora adapter peft lora-r16 dreambooth-lora".split()
MERGE_SUFFIXES = "slerp ties dare-ties merge della model_stock passthrough".split()
DS_BASES = (
    "squad imdb glue wikitext c4 the_pile openwebtext alpaca dolly ultrachat ultrafeedback "
    "openhermes slimorca gsm8k math mmlu hellaswag arc truthfulqa common_voice librispeech cifar10 "
    "mnist imagenet coco laion cc3m wikipedia oscar mc4 fineweb fineweb-edu dolma redpajama "
    "tinystories code_search_net the-stack humaneval mbpp xsum cnn_dailymail samsum conll2003 "
    "wnut_17 emotion amazon_reviews yelp_review ag_news dbpedia tweet_eval financial_phrasebank "
    "medqa pubmedqa hh-rlhf shp orca_dpo_pairs capybara lima sharegpt oasst1 oasst2 textbooks "
    "persona chatbot_arena lmsys-chat food101 beans eurosat celeba ffhq pokemon anime faces sroie "
    "docvqa chartqa scienceqa vqa audiocaps esc50 gtzan speech_commands fleurs voxpopuli mlsum "
    "opus wmt16 flores tatoeba xnli paws sts nli msmarco nq hotpotqa triviaqa boolq piqa "
    "winogrande commonsense_qa openbookqa sciq race drop quac coqa"
).split()
DS_MODS = (
    "clean cleaned filtered dedup tokenized processed formatted sharegpt chatml instruct dpo sft "
    "10k 1k 100k 200k small tiny mini sample subset train v1 v2 en zh ja ko fr de es ar hi vi ru "
    "pt it tr multilingual translated augmented synthetic test eval benchmark embeddings parquet "
    "raw balanced binarized prefs pairs conversations details results"
).split()
SPACE_WORDS = (
    "chatbot demo playground leaderboard arena app space ui webui studio tts asr translator "
    "summarizer image-gen text-to-image background-removal upscaler face-swap object-detection "
    "sentiment-analysis resume-parser pdf-chat rag-demo voice-clone music-gen try-on "
    "depth-estimation OCR whisper-webui gradio-app streamlit-app docker-test first-space test "
    "my-space agent assistant code-interpreter eval benchmark viewer explorer dashboard"
).split()

MODEL_LICENSES = [
    ("apache-2.0", 35), ("mit", 20), ("other", 8), ("cc-by-4.0", 5), ("cc-by-nc-4.0", 5),
    ("llama3.1", 4), ("llama3", 3), ("llama2", 3), ("openrail", 3), ("creativeml-openrail-m", 3),
    ("gemma", 2), ("cc-by-sa-4.0", 2), ("openrail++", 1), ("gpl-3.0", 1), ("bsd-3-clause", 0.5),
    ("afl-3.0", 0.5), ("llama3.2", 1), ("cc-by-nc-sa-4.0", 1), ("unknown", 0.5),
    ("artistic-2.0", 0.2), ("bigscience-openrail-m", 0.5), ("agpl-3.0", 0.3), ("wtfpl", 0.3),
    ("cc0-1.0", 0.3), ("lgpl-3.0", 0.2), ("bigscience-bloom-rail-1.0", 0.2),
    ("deepfloyd-if-license", 0.05), ("c-uda", 0.05), ("cc-by-nc-nd-4.0", 0.3), ("bsd-2-clause", 0.1),
]
DATASET_LICENSES = [
    ("mit", 20), ("apache-2.0", 18), ("cc-by-4.0", 12), ("other", 8), ("cc-by-sa-4.0", 6),
    ("cc-by-nc-4.0", 6), ("odc-by", 2), ("cc0-1.0", 2), ("openrail", 2), ("unknown", 2),
    ("cc-by-nc-sa-4.0", 3), ("llama3", 0.5), ("gpl-3.0", 1), ("odbl", 0.5), ("afl-3.0", 0.5),
    ("cdla-sharing-1.0", 0.2), ("pddl", 0.2), ("cc-by-3.0", 0.5), ("cc-by-nc-nd-4.0", 0.5),
]
MODEL_LIBRARIES = (
    "transformers safetensors pytorch tensorboard gguf peft diffusers sentence-transformers onnx "
    "tf jax keras stable-baselines3 ml-agents timm mlx transformers.js sample-factory open_clip "
    "coreml tflite openvino fastai setfit spacy flair adapter-transformers espnet speechbrain nemo "
    "paddlenlp fasttext sklearn joblib unity-sentis bertopic pyannote-audio llamafile span-marker "
    "allennlp asteroid ctranslate2 gliner lerobot tf-keras rust"
).split()
LANGUAGES = (
    "en zh fr de es ja ru ko ar pt it nl hi vi tr pl id fa sv uk multilingual th he bn ur ta cs el "
    "ro hu fi da no sw yo ms ca eu gl hr sr bg sk sl lt lv et is ga cy af am ha ig zu"
).split()
MODEL_OTHER = (
    "autotrain_compatible endpoints_compatible text-generation-inference generated_from_trainer "
    "conversational trl sft custom_code 4-bit 8-bit bitsandbytes llama mistral qwen2 gemma2 bert "
    "roberta t5 gpt2 whisper vit clip stable-diffusion stable-diffusion-xl template:sd-lora "
    "dreambooth deep-reinforcement-learning reinforcement-learning medical finance legal code math "
    "chemistry biology climate not-for-all-audiences has_space exbert unsloth dpo orpo imatrix "
    "awq gptq exl2 mlx llama-cpp gguf-my-repo Inference Endpoints"
).split()
DATASET_LIBRARIES = "datasets pandas mlcroissant polars dask webdataset distilabel fiftyone argilla lerobot".split()
DATASET_OTHER = (
    "synthetic code math-word-problems medical legal finance chemistry biology art music climate "
    "education reasoning instruction-finetuning rlhf dpo sft conversational roleplay agent "
    "function-calling tool-use safety red-teaming benchmark evaluation ocr robotics so100 tutorial"
).split()
SUB_TASKS = (
    "extractive-qa open-domain-qa closed-domain-qa language-modeling masked-language-modeling "
    "sentiment-classification sentiment-analysis multi-class-classification "
    "multi-label-classification named-entity-recognition part-of-speech dialogue-modeling "
    "dialogue-generation news-articles-summarization abstractive-qa natural-language-inference "
    "semantic-similarity-scoring fact-checking topic-classification hate-speech-detection "
    "intent-classification keyword-spotting speaker-identification image-captioning "
    "visual-question-answering multi-class-image-classification instance-segmentation "
    "semantic-segmentation document-retrieval entity-linking-retrieval coreference-resolution "
    "text-scoring parsing tabular-multi-class-classification univariate-time-series-forecasting "
    "multi-input-text-classification"
).split()
SIZES = "n<1K 1K<n<10K 10K<n<100K 100K<n<1M 1M<n<10M 10M<n<100M 100M<n<1B 1B<n<10B 10B<n<100B 100B<n<1T n>1T".split()
FORMATS = "parquet json csv text imagefolder audiofolder webdataset arrow soundfolder optimized-parquet".split()
MODALITIES = "text tabular image audio video timeseries 3d geospatial document".split()
SPACE_SDKS = [("gradio", 70), ("streamlit", 12), ("docker", 10), ("static", 8)]
SPACE_EXTRA = "leaderboard agent chatbot llm image-generation text-generation mcp-server-free submission featured".split()
OLD_ARCHIVES = "hep-th hep-ph hep-ex hep-lat astro-ph cond-mat gr-qc quant-ph math-ph nucl-th cs math physics".split()
COLLECTION_TOPICS = [
    "LLM", "Embedding", "Vision Language", "Text-to-Image", "Speech", "Reasoning", "RAG", "Code",
    "Math", "Multilingual", "Japanese", "Arabic", "Medical", "Agents", "Diffusion", "RLHF", "DPO",
    "Quantization", "Long Context", "OCR", "Audio", "Video", "3D", "Robotics", "Time Series",
    "Tabular", "NER", "Sentiment", "Translation", "Summarization", "Llama 3.1", "Qwen2.5",
    "Gemma 2", "FLUX", "Mistral", "Small", "Français", "Deutsch", "中文", "日本語",
]
COLLECTION_KINDS = [
    "Models", "Datasets", "Papers", "Spaces", "Collection", "Favorites", "Resources",
    "Leaderboard", "Benchmarks", "Demos", "Reading List", "Tools", "Checkpoints", "Releases",
]
COLLECTION_ADJ = "Best Awesome Small Open Efficient Latest Top Useful Favorite Interesting SOTA Cool".split()

WORDS = (
    "the a of to and in is for on with that this model data training we our it as by be are from "
    "an at which using can use used dataset models language text learning trained performance "
    "results fine-tuned fine-tuning evaluation task tasks tokens token tokenizer layer layers "
    "attention transformer encoder decoder parameters parameter weights batch size learning_rate "
    "epochs epoch loss accuracy f1 score benchmark benchmarks inference generation generate "
    "prompt prompts instruction instructions chat response responses input output inputs outputs "
    "image images audio speech video vision embedding embeddings retrieval context window long "
    "short quantized quantization precision bits memory GPU GPUs CPU hardware compute hours "
    "license commercial research limitations bias risks recommendations users should be aware "
    "please note may not always produce accurate information downstream applications evaluate "
    "carefully before deployment more information needed provide quick summary what does "
    "developed funded shared type languages finetuned from repository paper demo direct "
    "out-of-scope uses how get started code below procedure preprocessing hyperparameters "
    "regime speeds sizes times testing factors metrics summary environmental impact carbon "
    "emissions estimated technical specifications architecture objective infrastructure software "
    "citation glossary contact framework versions library pipeline upload hub card based on "
    "large small base instruct version new improved state-of-the-art open-source multilingual "
    "english corpus corpora samples examples split validation test train wikipedia books web "
    "crawl filtered deduplicated high-quality synthetic human annotated labels label classes "
    "class positive negative neutral sentiment entity entities question answer answers "
    "reasoning math code programming python structured json format formats conversation turns "
    "system user assistant role template merge merged adapter lora rank alpha dropout optimizer "
    "adamw scheduler cosine linear warmup steps gradient accumulation checkpoint checkpoints "
    "release released update updated thanks community contributors support feedback issues "
    "more details see below above also however therefore while although because each every "
    "all some most many few other such very well only just first second third final best"
).split()
UNICODE_BITS = [
    "é", "ü", "ñ", "—", "–", "“quoted”", "‘single’", "…", "→", "≤", "≥", "±", "°C", "×", "µs",
    "中文", "日本語", "한국어", "Ελληνικά", "Русский", "العربية", "हिन्दी", "ça va", "naïve",
    "🤗", "🚀", "🔥", "✅", "⚠️", "📚", "🦙", "✨", "★", "©", "™", "€", "£", "¥",
]
SECTION_TITLES = [
    "Model Details", "Model Description", "Uses", "Direct Use", "Downstream Use",
    "Out-of-Scope Use", "Bias, Risks, and Limitations", "Recommendations",
    "How to Get Started with the Model", "Training Details", "Training Data",
    "Training Procedure", "Training hyperparameters", "Evaluation", "Testing Data", "Results",
    "Environmental Impact", "Technical Specifications", "Citation", "Model Card Contact",
    "Framework versions", "Dataset Structure", "Data Fields", "Data Splits",
    "Dataset Creation", "Curation Rationale", "Source Data", "Annotations",
    "Personal and Sensitive Information", "Licensing Information", "Usage", "Prompt format",
    "Quantization details", "Provided files", "Acknowledgements", "FAQ", "Changelog",
]
CODE_SNIPPETS = [
    'from transformers import AutoModelForCausalLM, AutoTokenizer\n\nmodel_id = "{repo}"\n'
    "tokenizer = AutoTokenizer.from_pretrained(model_id)\n"
    'model = AutoModelForCausalLM.from_pretrained(model_id, torch_dtype="auto", device_map="auto")\n\n'
    'messages = [{{"role": "user", "content": "Who are you?"}}]\n'
    'inputs = tokenizer.apply_chat_template(messages, return_tensors="pt").to(model.device)\n'
    "outputs = model.generate(inputs, max_new_tokens=256)\n"
    "print(tokenizer.decode(outputs[0], skip_special_tokens=True))",
    'from transformers import pipeline\n\npipe = pipeline("text-classification", model="{repo}")\n'
    "pipe(\"I love this movie! It's the best.\")\n# [{{'label': 'POSITIVE', 'score': 0.9998}}]",
    'from datasets import load_dataset\n\nds = load_dataset("{repo}", split="train")\n'
    'print(ds[0]["text"])',
    "from diffusers import DiffusionPipeline\nimport torch\n\n"
    'pipe = DiffusionPipeline.from_pretrained("{repo}", torch_dtype=torch.float16).to("cuda")\n'
    'image = pipe("an astronaut riding a horse on the moon, 4k").images[0]\nimage.save("out.png")',
    "from sentence_transformers import SentenceTransformer\n\n"
    'model = SentenceTransformer("{repo}")\nembeddings = model.encode(["Hello world", "Bonjour le monde"])\n'
    "print(embeddings.shape)  # (2, 384)",
    "./llama-cli -m {file}.Q4_K_M.gguf -p \"You are a helpful assistant\" -cnv\n"
    "huggingface-cli download {repo} --include \"*Q4_K_M*\" --local-dir ./",
    "def train(model, loader, optimizer):\n\tmodel.train()\n\tfor batch in loader:\n"
    "\t\tloss = model(**batch).loss\n\t\tloss.backward()\n\t\toptimizer.step()\n"
    '\t\toptimizer.zero_grad()\n\treturn "done\\n"',
    "pip install -U transformers accelerate bitsandbytes\nexport HF_TOKEN=hf_xxx\n"
    "python train.py --model_name_or_path {repo} --per_device_train_batch_size 8 \\\n"
    "  --learning_rate 2e-5 --num_train_epochs 3 --output_dir ./out",
    "{{\n  \"architectures\": [\"LlamaForCausalLM\"],\n  \"hidden_size\": 4096,\n"
    "  \"num_attention_heads\": 32,\n  \"rope_theta\": 500000.0,\n  \"torch_dtype\": \"bfloat16\"\n}}",
]


# ------------------------------------------------------------------------------ helpers


def _b(strings) -> np.ndarray:
    """A numpy byte-string array from Python strings (ASCII)."""
    return np.array([s.encode("ascii") for s in strings], dtype="S")


def _shrink(arr: np.ndarray, tolerance: int = 0) -> np.ndarray:
    """The array at the width of its longest string (left as is if within tolerance bytes)."""
    if arr.size == 0:
        return arr.astype("S1")
    width = max(int(np.char.str_len(arr).max()), 1)
    return arr if arr.dtype.itemsize - width <= tolerance else arr.astype(f"S{width}")


def _concat(a: np.ndarray, b: np.ndarray, slack: int = 0) -> np.ndarray:
    """a + b elementwise into one array with slack spare bytes, built in slices (low peak)."""
    out = np.empty(a.size, dtype=f"S{a.dtype.itemsize + b.dtype.itemsize + slack}")
    step = 1 << 16
    for s in range(0, a.size, step):
        out[s:s + step] = np.char.add(a[s:s + step], b[s:s + step])
    return out


def _zipf_p(n: int, alpha: float) -> np.ndarray:
    w = np.arange(1, n + 1, dtype=np.float64) ** -alpha
    return w / w.sum()


def _weights(pairs) -> tuple[list, np.ndarray]:
    labels = [p[0] for p in pairs]
    w = np.array([p[1] for p in pairs], dtype=np.float64)
    return labels, w / w.sum()


class _Vocab:
    """A list of byte strings to draw from, with Zipf-like weights over list order."""

    def __init__(self, words, alpha: float = 0.5, transform=None):
        if transform is not None:
            words = [transform(w) for w in words]
        self.arr = _b(words)
        self.p = _zipf_p(len(words), alpha)

    def draw(self, rng, m):
        return self.arr[rng.choice(len(self.arr), m, p=self.p)]


class _Digits:
    def __init__(self, lo: int, hi: int):
        self.lo, self.hi = lo, hi

    def draw(self, rng, m):
        return rng.integers(self.lo, self.hi, m).astype(f"S{len(str(self.hi))}")


def _compose(rng, n: int, patterns, max_width: int = 64) -> np.ndarray:
    """n byte strings, each built by one of the patterns: (weight, [bytes literal | vocab]).

    Works on whole arrays per pattern (numpy.char), no per-item Python. Strings longer than
    max_width are cut (and stripped of a trailing separator)."""
    w = np.array([p[0] for p in patterns], dtype=np.float64)
    pat = rng.choice(len(patterns), n, p=w / w.sum())
    pieces = []
    for k, (_, parts) in enumerate(patterns):
        idx = np.nonzero(pat == k)[0]
        if not idx.size:
            continue
        acc = None
        for part in parts:
            piece = part if isinstance(part, bytes) else part.draw(rng, idx.size)
            acc = (np.full(idx.size, piece) if isinstance(piece, bytes) else piece) if acc is None \
                else np.char.add(acc, piece)
        pieces.append((idx, _shrink(acc)))
    width = min(max((a.dtype.itemsize for _, a in pieces), default=1), max_width)
    out = np.zeros(n, dtype=f"S{width}")
    for idx, a in pieces:
        out[idx] = a
    del pieces
    return _strip_cut(out)


def _assign(arr: np.ndarray, idx: np.ndarray, values: np.ndarray) -> np.ndarray:
    """arr[idx] = values, widening arr first if the values would not fit."""
    if values.dtype.itemsize > arr.dtype.itemsize:
        arr = arr.astype(values.dtype)
    arr[idx] = values
    return arr


def _strip_cut(arr: np.ndarray) -> np.ndarray:
    """Strip separators off the strings that fill the whole width (they may have been cut)."""
    full = np.nonzero(np.char.str_len(arr) == arr.dtype.itemsize)[0]
    if full.size:
        arr[full] = np.char.rstrip(arr[full], b"-_.")
    return arr


_SAFE = np.zeros(256, dtype=bool)
for _c in b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/":
    _SAFE[_c] = True
_SAFE[0] = True  # padding


def _hash_lower(arr: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each byte string, case-insensitive (vectorised over columns)."""
    n, w = arr.size, arr.dtype.itemsize
    mat = np.ascontiguousarray(arr).view(np.uint8).reshape(n, w)
    h = np.full(n, 1469598103934665603, dtype=np.uint64)
    prime = np.uint64(1099511628211)
    with np.errstate(over="ignore"):
        for j in range(w):
            col = mat[:, j].astype(np.uint64)
            upper = (col >= 65) & (col <= 90)
            col[upper] += np.uint64(32)
            h ^= col
            h *= prime
    return h


def _make_unique(box: list, rng, sep: bytes = b"-") -> np.ndarray:
    """Rename case-insensitive duplicates (all but the first) by appending sep + digits.

    box holds the one reference to the array (so that it can be freed once widened); the array
    is widened once and renamed items are redrawn from their original value until nothing
    collides, so the peak memory is about twice the array."""
    arr = box.pop()
    slack = 1 + 6  # room for sep + digits
    h = _hash_lower(arr)
    _, first = np.unique(h, return_index=True)
    dup = np.ones(arr.size, dtype=bool)
    dup[first] = False
    idx = np.nonzero(dup)[0]
    del dup, first
    if not idx.size:
        return _shrink(arr)
    if int(np.char.str_len(arr).max()) + slack > arr.dtype.itemsize:
        arr = arr.astype(f"S{arr.dtype.itemsize + slack}")
    base = arr[idx]
    for attempt in range(100):
        hi = 1000 if attempt < 10 else 1_000_000
        arr[idx] = np.char.add(np.char.add(base, sep), rng.integers(2, hi, idx.size).astype("S"))
        h[idx] = _hash_lower(arr[idx])
        _, inv, cnt = np.unique(h, return_inverse=True, return_counts=True)
        bad = cnt[inv[idx]] > 1  # a renamed item that still clashes is drawn again
        if not bad.any():
            del h, inv, cnt
            return _shrink(arr, tolerance=8)
        idx, base = idx[bad], base[bad]
    raise RuntimeError("could not make ids unique")


def _check_safe(arr: np.ndarray, what: str) -> None:
    """Ids are written into JSON and triples without escaping: check their characters."""
    if arr.size:
        mat = np.ascontiguousarray(arr).view(np.uint8)
        if not _SAFE[mat].all():
            raise AssertionError(f"unsafe character in generated {what} ids")


class _Pop:
    """A popularity ranking of n items; draws items with P(rank r) ~ (r+1)^-alpha."""

    def __init__(self, n: int, rng, head=()):
        # the items in head (e.g. the well-known accounts) come first, the rest in random order
        self.n = n
        head = np.asarray(head, dtype=np.int64)
        rest = np.ones(n, dtype=bool)
        rest[head] = False
        rest = np.nonzero(rest)[0]
        self.perm = np.concatenate([head, rest[rng.permutation(rest.size)]]).astype(np.int64)
        self._cum: tuple[float, np.ndarray] | None = None  # one exponent cached at a time
        self._rank = None

    @property
    def rank(self) -> np.ndarray:
        if self._rank is None:
            self._rank = np.empty(self.n, dtype=np.int64)
            self._rank[self.perm] = np.arange(self.n)
        return self._rank

    def cum(self, alpha: float) -> np.ndarray:
        if self._cum is None or self._cum[0] != alpha:
            self._cum = None
            self._cum = (alpha, np.cumsum(np.arange(1, self.n + 1, dtype=np.float64) ** -alpha))
        return self._cum[1]

    def sample(self, rng, m: int, alpha: float) -> np.ndarray:
        c = self.cum(alpha)
        r = np.searchsorted(c, rng.random(m) * c[-1], side="right")
        np.minimum(r, self.n - 1, out=r)
        return self.perm[r]

    def sample_below(self, rng, max_rank: np.ndarray, alpha: float) -> np.ndarray:
        """For each limit L (>= 1), an item of rank < L."""
        c = self.cum(alpha)
        r = np.searchsorted(c, rng.random(max_rank.size) * c[max_rank - 1], side="right")
        np.minimum(r, max_rank - 1, out=r)
        return self.perm[r]


class _TextBank:
    """A few MB of README-like markdown and of arXiv-like abstract text to cut descriptions from."""

    def __init__(self, seed: int, md_chars: int = 4_000_000, abstract_chars: int = 600_000):
        r = random.Random(seed * 7919 + 17)
        # The markdown is kept JSON-escaped and UTF-8 encoded, cut into tokens that end after a
        # space or a newline: a description body is a run of whole tokens, copied as bytes, so
        # no escape sequence is ever cut and nothing is escaped or encoded per record.
        esc, raw_len, esc_len, line_tok = bytearray(), array("q", [0]), array("q", [0]), array("q", [0])
        token = re.compile(r"[^ \n]*[ \n]|[^ \n]+$")
        for block in self._markdown(r, md_chars):
            for t in token.findall(block):
                e = _q(t)[1:-1].encode("utf-8")
                esc += e
                raw_len.append(len(t))
                esc_len.append(len(e))
                if t == "\n":  # a blank line: the next token starts a block
                    line_tok.append(len(raw_len) - 1)
        self.md_esc = bytes(esc)
        del esc
        self.tok_raw = np.cumsum(np.frombuffer(raw_len, dtype=np.int64))
        self.tok_esc = np.cumsum(np.frombuffer(esc_len, dtype=np.int64))
        self.line_tok = np.frombuffer(line_tok, dtype=np.int64)[:-1].copy()  # the last one ends the text
        self.abstract = self._abstracts(r, abstract_chars)
        self.ab_starts = np.array([0] + [m.end() for m in re.finditer(r"\. ", self.abstract)], dtype=np.int64)

    @staticmethod
    def _sentence(r: random.Random) -> str:
        words = r.choices(WORDS, k=r.randint(6, 26))
        for _ in range(r.randint(0, 2)):
            i = r.randrange(len(words))
            x = r.random()
            if x < 0.3:
                words[i] = r.choice(UNICODE_BITS)
            elif x < 0.45:
                words[i] = f"`{words[i]}`"
            elif x < 0.6:
                words[i] = f"**{words[i]}**"
            elif x < 0.7:
                words[i] = f'"{words[i]}"'
            elif x < 0.8:
                words[i] = f"{r.randint(1, 99)}.{r.randint(0, 9)}%"
            elif x < 0.9:
                words[i] = f"[{words[i]}](https://huggingface.co/{r.choice(FAMILIES)})"
            else:
                words[i] = f"{words[i]}'s"
        s = " ".join(words)
        return s[0].upper() + s[1:] + r.choice(".....!?:")

    def _paragraph(self, r):
        return " ".join(self._sentence(r) for _ in range(r.randint(1, 6)))

    def _markdown(self, r: random.Random, size: int):
        """Blocks of README-like markdown (about size characters in all), each ending in newlines."""
        total = 0
        while total < size:
            x = r.random()
            if x < 0.14:
                block = f"{'#' * r.randint(1, 3)} {r.choice(SECTION_TITLES)}"
            elif x < 0.5:
                block = self._paragraph(r)
            elif x < 0.62:
                block = "\n".join(
                    f"- **{r.choice(SECTION_TITLES)}:** {self._sentence(r)}" if r.random() < 0.5
                    else f"- {self._sentence(r)}" for _ in range(r.randint(2, 7)))
            elif x < 0.72:
                repo = f"{r.choice(HANDLE_WORDS)}/{r.choice(FAMILIES)}"
                code = r.choice(CODE_SNIPPETS).format(repo=repo, file=repo.split("/")[1])
                block = f"```{r.choice(['python', 'python', 'bash', 'shell', 'json', ''])}\n{code}\n```"
            elif x < 0.8:
                rows = "\n".join(
                    f"| {r.choice(DS_BASES)} | {r.uniform(0, 100):.2f} | {r.uniform(0, 1):.4f} | {r.choice(['✓', '✗', '-', 'n/a'])} |"
                    for _ in range(r.randint(2, 9)))
                block = f"| Benchmark | Score | Std | Notes |\n|---|---:|---:|:---:|\n{rows}"
            elif x < 0.85:
                a, b = r.choice(LAST_NAMES)[0], r.choice(LAST_NAMES)[0]
                block = ("```bibtex\n@article{" + f"{a.lower()}{r.randint(2018, 2024)}{r.choice(WORDS)},\n"
                         f"  title={{{self._sentence(r)[:-1]}}},\n"
                         f"  author={{{a}, {r.choice(FIRST_NAMES)[0]} and {b}, {r.choice(FIRST_NAMES)[0]}}},\n"
                         f"  journal={{arXiv preprint arXiv:{r.randint(2001, 2412)}.{r.randint(10000, 29999)}}},\n"
                         f"  year={{{r.randint(2018, 2024)}}}\n}}\n```")
            elif x < 0.89:
                block = "> " + self._sentence(r) + "\n> " + self._sentence(r)
            elif x < 0.92:
                block = (f'<p align="center">\n  <img src="https://huggingface.co/{r.choice(HANDLE_WORDS)}/'
                         f'{r.choice(FAMILIES)}/resolve/main/banner.png" width="{r.choice([300, 400, 600])}"/>\n</p>')
            elif x < 0.95:
                block = (f"[📄 Paper](https://arxiv.org/abs/{r.randint(2101, 2412)}.{r.randint(10000, 19999)}) | "
                         f"[💻 Code](https://github.com/{r.choice(HANDLE_WORDS)}/{r.choice(DS_BASES)}) | "
                         f"[🤗 Demo](https://huggingface.co/spaces/{r.choice(HANDLE_WORDS)}/{r.choice(SPACE_WORDS)})")
            elif x < 0.97:
                block = r.choice([
                    "这是一个基于大规模语料训练的语言模型，支持中文和英文对话。",
                    "このモデルは日本語の指示に従うように微調整されています。",
                    "Ce modèle a été entraîné sur des données françaises « de haute qualité ».",
                    "Dieses Modell wurde für die deutsche Sprache optimiert – bitte beachten Sie die Lizenz.",
                    "Эта модель обучена на русскоязычных текстах.",
                    "هذا النموذج مدرب على نصوص عربية.",
                    "Windows path: C:\\Users\\hf\\models\\ and a tab\there.",
                    "Line with a carriage return\r\nand a form feed \f and a backslash \\ at the end \\",
                ])
            else:
                block = "---"
            total += len(block) + 2
            yield block + ("\n\n" if total < size else "\n")

    def _abstracts(self, r: random.Random, size: int) -> str:
        out, line, total = [], 0, 0
        while total < size:
            s = self._sentence(r).replace("**", "").replace("`", "")
            for word in s.split(" "):
                if line + len(word) + 1 > 78:
                    out.append("\n")
                    line = 0
                elif line:
                    out.append(" ")
                    line += 1
                out.append(word)
                line += len(word)
                total += len(word) + 1
        return "".join(out)

    def md_slices(self, rng, lengths: np.ndarray) -> tuple[list, list]:
        """Per wanted length (in characters), the byte range in md_esc of a run of whole tokens
        starting at a block start and at least that long (or to the end of the buffer)."""
        total = self.tok_raw[-1]
        starts_raw = self.tok_raw[self.line_tok]
        lim = np.maximum(np.searchsorted(starts_raw, total - lengths, side="right"), 1)
        k = self.line_tok[(rng.random(lengths.size) * lim).astype(np.int64)]
        j = np.minimum(np.searchsorted(self.tok_raw, self.tok_raw[k] + lengths, side="left"), self.tok_raw.size - 1)
        return self.tok_esc[k].tolist(), self.tok_esc[j].tolist()

    def ab_starts_for(self, rng, lengths: np.ndarray) -> np.ndarray:
        lim = np.searchsorted(self.ab_starts, len(self.abstract) - lengths, side="right")
        return self.ab_starts[(rng.random(lengths.size) * lim).astype(np.int64)]


def _slugify(title: str) -> str:
    ascii_ = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_).strip("-")[:48].strip("-") or "collection"


def _jlist(items) -> str:
    """A list of strings laid out as json.dumps(..., indent=1) lays it out at depth 2."""
    if not items:
        return "[]"
    return "[\n   " + ",\n   ".join(map(_q, items)) + "\n  ]"


def _js(value) -> str:
    return "null" if value is None else _q(value)


def _pick(vocab: list[str], row: list[int], k: int) -> list[str]:
    """Up to k distinct labels from a row of drawn vocabulary indices."""
    return [vocab[j] for j in dict.fromkeys(row[:k])] if k else []


# ------------------------------------------------------------------------------ writers


class _ArrayWriter:
    """Streams a JSON array laid out like json.dump(records, f, indent=1)."""

    def __init__(self, path: Path):
        self.f = open(path, "wb", buffering=1 << 20)
        self.n = 0

    def write(self, records: list) -> None:
        if not records:
            return
        if isinstance(records[0], str):  # encoded one by one: no big (UCS-4) joined string
            chunk = b",\n".join([x.encode("utf-8") for x in records])
        else:
            chunk = b",\n".join(records)
        self.f.write(b"[\n" if self.n == 0 else b",\n")
        self.f.write(chunk)
        self.n += len(records)

    def close(self) -> int:
        self.f.write(b"\n]" if self.n else b"[]")
        self.f.close()
        return self.n


# ------------------------------------------------------------------------------ the generator


class _Generator:
    CHUNK = 4096

    def __init__(self, out_dir: Path, scale: float, seed: int, verbose: bool):
        if scale <= 0:
            raise ValueError("scale must be positive")
        self.scale, self.seed, self.verbose = scale, seed, verbose
        self.rel_dir = out_dir / RELEASE_NAME
        self.triples_path = out_dir / "triples.txt"
        self.n = {t: (len(TASKS) if t == "task" else round(scale * c)) for t, (_, c) in ENTITY_FILES.items()}
        small = [t for t, k in self.n.items() if k < 1]
        if small:
            raise ValueError(f"scale {scale} too small: no {', '.join(small)} (use scale >= 1e-4)")
        self.rc = {r[0]: round(scale * r[5]) for r in RELATIONS}
        self.ids: dict[str, np.ndarray] = {}
        self._pops: dict[tuple, _Pop] = {}
        self.counts: dict[str, int] = {}
        self.t0 = time.perf_counter()

    # -- plumbing

    def log(self, msg: str) -> None:
        if self.verbose:
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024 if resource else 0
            print(f"[{time.perf_counter() - self.t0:7.1f}s {peak:5d} MB] {msg}", file=sys.stderr, flush=True)

    def rng(self, *tag) -> np.random.Generator:
        return np.random.default_rng([self.seed, zlib.crc32("/".join(map(str, tag)).encode())])

    def pop(self, typ: str, role: str) -> _Pop:
        key = (typ, role)
        if key not in self._pops:
            r = self.rng("pop", typ, role)
            head = np.zeros(0, dtype=np.int64)
            if role == "pop" and typ == "org":
                head = np.arange(min(len(KNOWN_ORGS), self.n["org"]))
            elif role == "pop" and typ == "user":
                head = np.arange(min(len(KNOWN_USERS), self.n["user"]))
            elif role == "pop" and typ in self.owners:
                # the most popular repos belong to the well-known organizations
                is_org, owner = self.owners[typ]
                cand = np.nonzero(is_org & (owner < min(len(KNOWN_ORGS), self.n["org"])))[0]
                head = r.permutation(cand)[:max(1, round(0.0005 * self.n[typ]))]
            self._pops[key] = _Pop(self.n[typ], r, head)
        return self._pops[key]

    def top_items(self, typ: str) -> np.ndarray:
        """The repos put first in the popularity ranking (named after well-known releases)."""
        is_org, owner = self.owners[typ]
        k = int((is_org & (owner < min(len(KNOWN_ORGS), self.n["org"]))).sum())
        return self.pop(typ, "pop").perm[:min(k, max(1, round(0.0005 * self.n[typ])))]

    # -- ids

    def make_accounts(self) -> None:
        r = self.rng("accounts")
        n_u, n_o = self.n["user"], self.n["org"]
        k_o, k_u = min(len(KNOWN_ORGS), n_o), min(len(KNOWN_USERS), n_u)
        w = _Vocab(HANDLE_WORDS, 0.3)
        wc = _Vocab(HANDLE_WORDS, 0.3, str.capitalize)
        inst = _Vocab(list(INSTITUTIONS), 0.3)
        field = _Vocab(FIELDS, 0.5)
        last = _Vocab([x[1] for x in LAST_NAMES], 0.2)
        orgs = _compose(r, n_o - k_o, [
            (20, [w, b"-", w]), (15, [wc, wc, b"AI"]), (20, [inst, b"-", field]), (10, [wc, b"Labs"]),
            (10, [last, b"-lab"]), (10, [w, w, b"-ai"]), (15, [wc, b"-", wc]),
        ])
        orgs = np.concatenate([_b([o for o, _ in KNOWN_ORGS[:k_o]]), orgs.astype("S40")])
        # users: first/last indices are kept to render full names consistent with the handles
        self.user_first = r.integers(0, len(FIRST_NAMES), n_u).astype(np.int16)
        self.user_last = r.integers(0, len(LAST_NAMES), n_u).astype(np.int16)
        fa = _b([f[1] for f in FIRST_NAMES])
        fc = np.char.capitalize(fa)
        fi = _b([f[1][0] for f in FIRST_NAMES])
        la = _b([x[1] for x in LAST_NAMES])
        lc = np.char.capitalize(la)
        m = n_u - k_u
        pw = np.array([15, 12, 5, 12, 8, 10, 8, 6, 10, 8, 6], dtype=np.float64)
        pat = r.choice(pw.size, m, p=pw / pw.sum())
        users = np.zeros(m, dtype="S40")
        for k in range(pw.size):
            sel = np.nonzero(pat == k)[0]
            F, L = self.user_first[k_u:][sel], self.user_last[k_u:][sel]
            j = sel.size
            digits = r.integers(1, 10000, j).astype("S")
            w1, w2 = w.draw(r, j), w.draw(r, j)
            add = np.char.add
            build = (
                lambda: add(fa[F], la[L]), lambda: add(add(fa[F], b"-"), la[L]),
                lambda: add(add(fa[F], b"_"), la[L]), lambda: add(fa[F], digits),
                lambda: add(fi[F], la[L]), lambda: add(w1, w2),
                lambda: add(np.char.capitalize(w1), np.char.capitalize(w2)),
                lambda: add(add(add(w1, b"-"), w2), digits), lambda: add(add(fa[F], la[L]), digits),
                lambda: add(fc[F], lc[L]), lambda: add(b"user", digits),
            )
            users[sel] = build[k]()
        users = np.concatenate([_b([u for u, _ in KNOWN_USERS[:k_u]]), users])
        box = [np.concatenate([orgs, users])]
        del orgs, users
        allnames = _make_unique(box, r)
        self.ids["org"] = _shrink(allnames[:n_o])
        self.ids["user"] = _shrink(allnames[n_o:])
        self.n_known_users = k_u
        for t in ("org", "user"):
            _check_safe(self.ids[t], t)

    def make_ownership(self, typ: str, user_rel: str, org_rel: str, a_user: float, a_org: float):
        """Each item gets one owner; the first ones are published (own) by a user, the next ones
        by an org, the rest (what the crawl lost) by a user without an edge."""
        n = self.n[typ]
        r = self.rng("own", typ)
        cu, co = min(self.rc[user_rel], n), min(self.rc[org_rel], n)
        perm = r.permutation(n)
        u_items = perm[:cu]
        o_items = np.concatenate([perm[cu:cu + co], perm[:max(0, cu + co - n)]])
        owner = np.empty(n, dtype=np.int64)
        is_org = np.zeros(n, dtype=bool)
        owner[perm] = self.pop("user", "pop").sample(r, n, a_user)
        o_own = perm[cu:cu + co]
        is_org[o_own] = True
        org_heads = self.pop("org", "pop").sample(r, o_items.size, a_org)
        owner[o_own] = org_heads[:o_own.size]
        self.owners[typ] = (is_org, owner)
        self.pub_edges[user_rel] = (owner[u_items], u_items)
        self.pub_edges[org_rel] = (org_heads, o_items)
        prefix = np.empty(n, dtype=f"S{max(self.ids['user'].dtype.itemsize, self.ids['org'].dtype.itemsize)}")
        prefix[~is_org] = self.ids["user"][owner[~is_org]]
        prefix[is_org] = self.ids["org"][owner[is_org]]
        return np.char.add(prefix, b"/")

    def make_lineage(self) -> None:
        """Derived models are disjoint per kind; each base is more popular than its derivative."""
        n = self.n["model"]
        r = self.rng("lineage")
        pop = self.pop("model", "pop")
        rank = pop.rank
        want = {k: self.rc[f"model_{k}_model"] for k in _LINEAGE}
        n_merge_tails = max(1, round(want["merge"] / 2.4)) if want["merge"] else 0
        sizes = [want["adapter"], want["finetune"], want["quantized"], n_merge_tails]
        candidates = r.permutation(pop.perm[min(3, n - 1):])
        if sum(sizes) > candidates.size:
            raise ValueError("scale too small for the lineage relations")
        self.model_kind = np.zeros(n, dtype=np.int8)
        self.model_base = np.full(n, -1, dtype=np.int64)
        start = 0
        for code, (kind, size) in enumerate(zip(_LINEAGE, sizes), start=1):
            pool = candidates[start:start + size]
            start += size
            if kind == "merge" and size:
                mult = np.full(size, want["merge"] // size)
                mult[r.choice(size, want["merge"] % size, replace=False)] += 1
                mult = np.minimum(mult, rank[pool])  # a tail of rank k has only k possible bases
                tails = np.repeat(pool, mult)
                heads = pop.sample_below(r, rank[tails], 1.0)
                for attempt in range(200):
                    key = tails * n + heads
                    order = np.argsort(key, kind="stable")
                    dup = np.zeros(key.size, dtype=bool)
                    dup[order[1:]] = key[order[1:]] == key[order[:-1]]
                    if not dup.any():
                        break
                    a = 1.0 if attempt < 20 else 0.0  # fall back to uniform if stuck
                    heads[dup] = pop.sample_below(r, rank[tails[dup]], a)
                else:
                    raise RuntimeError("could not draw distinct merge bases")
            else:
                tails = pool
                heads = pop.sample_below(r, rank[tails], 1.0)
            self.model_kind[tails] = code
            self.model_base[tails] = heads  # for merges: the last base drawn
            order = np.lexsort((tails, heads))
            self.pub_edges[f"model_{kind}_model"] = (heads[order], tails[order])

    def make_model_ids(self) -> None:
        prefix = self._model_prefix
        n = self.n["model"]
        r = self.rng("model-names")
        fam = _Vocab(FAMILIES, 0.6)
        tasky = _Vocab(TASKY, 0.4)
        w = _Vocab(HANDLE_WORDS + WORDS[40:140], 0.2)
        wc = _Vocab(HANDLE_WORDS, 0.2, str.capitalize)
        names = _compose(r, n, [
            (35, [fam, b"-", tasky]), (15, [fam, b"-", tasky, b"-", tasky]),
            (5, [_Vocab(NAME_PREFIXES, 0.5), b"_", w, b"_model"]), (8, [fam]),
            (7, [w, b"-", w, b"-", _Digits(1, 100)]), (8, [wc, b"-", fam]),
            (7, [fam, b"-", tasky, b"-", _Digits(1, 5000)]),
            (5, [_Vocab(RL_ALGOS, 0.5), b"-", _Vocab(RL_ENVS, 0.5)]), (5, [fam, b"_", tasky, b"_", w]),
            (5, [w, _Digits(1, 1000)]),
        ])
        top = self.top_items("model")
        names = _assign(names, top, _Vocab(FAMILIES, 0.3).draw(r, top.size))
        # derived models are often named after their base
        suffix = {1: _Vocab(ADAPTER_SUFFIXES, 0.5), 2: tasky, 3: _Vocab(QUANT_SUFFIXES, 0.5),
                  4: _Vocab(MERGE_SUFFIXES, 0.5)}
        share = {1: 0.6, 2: 0.4, 3: 0.9, 4: 0.5}
        renamed = []
        for code, voc in suffix.items():
            idx = np.nonzero((self.model_kind == code) & (r.random(n) < share[code]))[0]
            if idx.size:
                new = np.char.add(np.char.add(names[self.model_base[idx]], b"-"), voc.draw(r, idx.size))
                renamed.append((idx, _shrink(new)))
        width = min(64, max([names.dtype.itemsize] + [a.dtype.itemsize for _, a in renamed]))
        if width != names.dtype.itemsize:
            names = names.astype(f"S{width}")
        for idx, new in renamed:
            names[idx] = new  # cut to the width (ids stay within the Hub's 96 characters)
        del renamed
        names = _strip_cut(names)
        box = [_concat(prefix, names, slack=7)]
        del names, prefix
        self._model_prefix = None
        ids = _make_unique(box, r)
        self.ids["model"] = ids
        _check_safe(ids, "model")

    def make_simple_ids(self, typ: str, prefix: np.ndarray, patterns, top_vocab=None) -> None:
        r = self.rng(f"{typ}-names")
        names = _compose(r, self.n[typ], patterns)
        if top_vocab is not None:
            top = self.top_items(typ)
            names = _assign(names, top, top_vocab.draw(r, top.size))
        box = [_concat(prefix, names, slack=7)]
        del names
        self.ids[typ] = _make_unique(box, r)
        _check_safe(self.ids[typ], typ)

    def make_paper_ids(self) -> None:
        n = self.n["paper"]
        r = random.Random(self.seed * 31 + 5)
        seen, out, ym = set(), [], []
        years = list(range(2007, 2025))
        year_w = [0.2 if y < 2015 else (y - 2013) ** 1.6 for y in years]
        while len(out) < n:
            if r.random() < 0.02:
                yy = r.choice(list(range(91, 100)) + list(range(0, 7)))
                year, month = (1900 + yy if yy >= 91 else 2000 + yy), r.randint(1, 12)
                pid = f"{r.choice(OLD_ARCHIVES)}/{yy:02d}{month:02d}{r.randint(1, 999):03d}"
            else:
                year = r.choices(years, year_w)[0]
                month = r.randint(1, 12)
                if year == 2007:
                    month = r.randint(4, 12)
                num = r.randint(1, 29999) if year >= 2015 else r.randint(1, 9999)
                pid = f"{year % 100:02d}{month:02d}.{num:05d}" if year >= 2015 else f"{year % 100:02d}{month:02d}.{num:04d}"
            if pid not in seen:
                seen.add(pid)
                out.append(pid)
                ym.append(year * 100 + month)
        self.ids["paper"] = _b(out)
        self.paper_ym = np.array(ym, dtype=np.int32)
        _check_safe(self.ids["paper"], "paper")

    def make_collection_ids(self, prefix: np.ndarray) -> None:
        n = self.n["collection"]
        r = random.Random(self.seed * 37 + 11)
        g = self.rng("collection-hex")
        titles, slugs = [], []
        t_lo, t_hi = 1690848000, 1734220800  # 2023-08-01 .. 2024-12-15: the ObjectId timestamp
        ts = g.integers(t_lo, t_hi, n)
        rnd = g.integers(0, 2**63, n)
        for i in range(n):
            x = r.random()
            topic = r.choice(COLLECTION_TOPICS)
            if x < 0.25:
                t = topic
            elif x < 0.5:
                t = f"{topic} {r.choice(COLLECTION_KINDS)}"
            elif x < 0.6:
                t = f"My {r.choice(COLLECTION_KINDS).lower()}"
            elif x < 0.75:
                t = f"{r.choice(COLLECTION_ADJ)} {topic} {r.choice(COLLECTION_KINDS)}"
            elif x < 0.85:
                t = f"{r.choice(FAMILIES)} {r.choice(COLLECTION_KINDS)}"
            elif x < 0.9:
                t = f"{r.choice(UNICODE_BITS[-15:])} {topic} {r.choice(COLLECTION_KINDS)}"
            elif x < 0.95:
                t = f"Papers on {topic} ({r.randint(2022, 2024)})"
            else:
                t = f'"{topic}" — {r.choice(COLLECTION_KINDS).lower()} & more'
            titles.append(t)
            slugs.append(f"{_slugify(t)}-{int(ts[i]):08x}{int(rnd[i]) & 0xFFFFFFFFFFFFFFFF:016x}")
        self.collection_titles = titles
        self.ids["collection"] = _make_unique([np.char.add(prefix, _b(slugs))], self.rng("collection-dups"))
        _check_safe(self.ids["collection"], "collection")

    # -- relations

    def _sampler(self, spec, name):
        typ, role, a = spec
        n = self.n[typ]
        if role in ("pop", "act"):
            pop = self.pop(typ, role)
            return lambda r, m, uniform=False: r.integers(0, n, m) if uniform else pop.sample(r, m, a)
        if role == "uniform":
            return lambda r, m, uniform=False: r.integers(0, n, m)
        if role == "pool":  # a fixed random subset of about count/a items
            size = max(1, min(n, int(np.ceil(self.rc[name] / a))))
            pool = self.rng("pool", name).choice(n, size, replace=False)
            return lambda r, m, uniform=False: pool[r.integers(0, size, m)] if not uniform else r.integers(0, n, m)
        if role == "task":
            _, p = _weights([(t[0], t[3]) for t in TASKS])
            return lambda r, m, uniform=False: r.integers(0, n, m) if uniform else r.choice(n, m, p=p)
        raise ValueError(role)

    def draw_pairs(self, name: str, no_self: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """count distinct (head, tail) pairs drawn from the relation's samplers, sorted."""
        hspec, tspec = _GENERIC[name]
        nh, nt = self.n[hspec[0]], self.n[tspec[0]]
        count = self.rc[name]
        cap = nh * nt - (min(nh, nt) if no_self else 0)
        if count > cap:
            print(f"warning: {name}: only {cap} distinct pairs possible, not {count}", file=sys.stderr)
            count = cap
        hs, ts = self._sampler(hspec, name), self._sampler(tspec, name)
        r = self.rng("pairs", name)
        keys = np.empty(0, dtype=np.int64)
        rounds = 0
        while keys.size < count:
            m = int((count - keys.size) * 1.1) + 16
            uniform = rounds >= 12  # saturated skewed draws: fill up uniformly
            h, t = hs(r, m, uniform), ts(r, m, uniform)
            if no_self:
                keep = h != t
                h, t = h[keep], t[keep]
            keys = np.union1d(keys, h.astype(np.int64) * nt + t)
            rounds += 1
        if keys.size > count:
            keys = np.sort(r.choice(keys, count, replace=False))
        return keys // nt, keys % nt

    def model_tasks(self) -> tuple[np.ndarray, np.ndarray]:
        """One pipeline tag per tagged model; derived models mostly keep their base's tag."""
        n = self.n["model"]
        r = self.rng("model-tasks")
        count = min(self.rc["model_definedFor_task"], n)
        _, p = _weights([(t[0], t[2]) for t in TASKS])
        task = np.full(n, -1, dtype=np.int16)
        # models with a base are a little more likely to carry a tag
        w = np.where(self.model_kind > 0, 1.5, 1.0)
        tagged = r.choice(n, count, replace=False, p=w / w.sum())
        task[tagged] = r.choice(len(TASKS), count, p=p)
        derived = np.nonzero(self.model_base >= 0)[0]
        for _ in range(3):  # propagate along chains a few steps
            base_task = task[self.model_base[derived]]
            sel = (task[derived] >= 0) & (base_task >= 0) & (r.random(derived.size) < 0.9)
            task[derived[sel]] = base_task[sel]
        self.model_task = task
        heads = np.sort(tagged)
        return heads, task[heads].astype(np.int64)

    def write_relation(self, spec, heads: np.ndarray, tails: np.ndarray, triples) -> None:
        name, skey, okey, htype, ttype, _ = spec
        H, T = self.ids[htype], self.ids[ttype]
        tmpl = f' {{\n  "{skey}": "%s",\n  "{okey}": "%s"\n }}'.encode()
        mid = b"\t" + name.encode() + b"\t"
        w = _ArrayWriter(self.rel_dir / f"{name}.json")
        step = 1 << 17
        for s in range(0, heads.size, step):
            hs, ts = H[heads[s:s + step]].tolist(), T[tails[s:s + step]].tolist()
            w.write([tmpl % p for p in zip(hs, ts)])
            triples.write(b"".join([a + mid + b + b"\n" for a, b in zip(hs, ts)]))
        self.counts[f"{name}.json"] = w.close()
        self.counts["triples.txt"] += heads.size

    def write_relations(self) -> None:
        self.counts["triples.txt"] = 0
        n = self.n
        with open(self.triples_path, "wb", buffering=1 << 20) as triples:
            for spec in RELATIONS:
                name = spec[0]
                if name == "model_definedFor_task":
                    h, t = self.model_tasks()
                elif name in self.pub_edges:
                    h, t = self.pub_edges.pop(name)
                    if "_publish_" in name or "_own_" in name:
                        order = np.lexsort((t, h))
                        h, t = h[order], t[order]
                else:
                    h, t = self.draw_pairs(name, no_self=(name == "user_follow_user"))
                # what the entity records need from the edges
                if name.startswith("user_like_"):
                    typ = spec[4]
                    setattr(self, f"{typ}_like_deg", np.bincount(t, minlength=n[typ]).astype(np.int32))
                elif name == "dataset_definedFor_task":
                    self.dataset_tasks = (np.concatenate([[0], np.cumsum(np.bincount(h, minlength=n["dataset"]))]), t.copy())
                elif name == "dataset_cite_paper":
                    self.dataset_cites = (np.concatenate([[0], np.cumsum(np.bincount(h, minlength=n["dataset"]))]), t.copy())
                elif name == "user_publish_paper":
                    order = np.argsort(t, kind="stable")
                    self.paper_users = (np.concatenate([[0], np.cumsum(np.bincount(t, minlength=n["paper"]))]), h[order])
                elif name == "model_cite_paper":
                    self.paper_cited = np.bincount(t, minlength=n["paper"])
                self.write_relation(spec, h, t, triples)
                self.log(f"{name}: {h.size} edges")

    # -- entity records

    def _dates(self, r, m: int, null_created: float, null_modified: float, legacy: float = 0.0):
        span = (np.datetime64("2024-12-15T00:00:00", "ms") - np.datetime64("2019-01-01T00:00:00", "ms")).astype(np.int64)
        created = (r.random(m) ** 0.5 * span).astype(np.int64)  # the Hub grew fast: skew late
        if legacy:  # repos migrated on 2022-03-02 all carry that creation date
            leg = r.random(m) < legacy
            base = (np.datetime64("2022-03-02T23:29:04", "ms") - np.datetime64("2019-01-01T00:00:00", "ms")).astype(np.int64)
            created[leg] = base + r.integers(0, 120_000, leg.sum()) // 1000 * 1000
        modified = created + ((span - created) * r.random(m) ** 3).astype(np.int64)
        t0 = np.datetime64("2019-01-01T00:00:00", "ms")
        cs = np.datetime_as_string(t0 + created.astype("timedelta64[ms]"), unit="ms").tolist()
        ms = np.datetime_as_string(t0 + modified.astype("timedelta64[ms]"), unit="ms").tolist()
        cn, mn = r.random(m) < null_created, r.random(m) < null_modified
        return ([None if cn[i] else cs[i] + "Z" for i in range(m)],
                [None if mn[i] else ms[i] + "Z" for i in range(m)])

    def _desc_lengths(self, r, m: int, median: float = 1500, sigma: float = 1.2, cap: int = 100_000):
        return np.clip(np.exp(r.normal(np.log(median), sigma, m)), 40, cap).astype(np.int64)

    @staticmethod
    def _lists(r, m: int, vocab_size: int, count_p, alpha: float, k: int = 5):
        counts = r.choice(len(count_p), m, p=np.asarray(count_p) / np.sum(count_p)).tolist()
        idx = r.choice(vocab_size, (m, k), p=_zipf_p(vocab_size, alpha)).tolist()
        return counts, idx

    def _null(self, r, m: int, p: float) -> list:
        return (r.random(m) < p).tolist()

    def _downloads(self, r, rank: np.ndarray, m: int, top: float = 5e7) -> np.ndarray:
        full_rank = (rank + 1.0) / self.scale  # the same rank at full scale: scale-free shape
        d = np.floor(np.exp(r.normal(1.0, 2.4, m)))
        d += np.floor(top * full_rank ** -1.3 * np.exp(r.normal(0, 0.5, m)))
        d[(r.random(m) < 0.3) & (full_rank > 20_000)] = 0
        return d.astype(np.int64)

    def _likes(self, r, deg: np.ndarray) -> list:
        extra = np.floor(deg * r.random(deg.size) * 0.5).astype(np.int64)
        return (deg + extra).tolist()

    def write_tasks(self) -> None:
        w = _ArrayWriter(self.rel_dir / "tasks.json")
        w.write([f' {{\n  "id": {_q(t[0])},\n  "label": {_q(t[1])}\n }}' for t in TASKS])
        self.counts["tasks.json"] = w.close()

    def write_models(self) -> None:
        n = self.n["model"]
        r = self.rng("model-records")
        text = self.text
        md = text.md_esc
        ids = self.ids["model"]
        rank_all = self.model_rank
        deg_all = getattr(self, "model_like_deg", np.zeros(n, dtype=np.int32))
        lic_labels, lic_p = _weights(MODEL_LICENSES)
        task_ids = [t[0] for t in TASKS]
        regions = ("us", "eu", None)
        kind_lib = {1: "peft", 3: "gguf"}
        kind_other = {1: "lora", 2: "generated_from_trainer", 4: "mergekit"}
        kind_words = {1: "an adapter (LoRA) on", 2: "a fine-tuned version of", 3: "a quantized version of",
                      4: "a merge of pre-trained language models including"}
        w = _ArrayWriter(self.rel_dir / "models.json")
        for s in range(0, n, self.CHUNK):
            e = min(n, s + self.CHUNK)
            m = e - s
            mids = [x.decode() for x in ids[s:e].tolist()]
            created, modified = self._dates(r, m, 0.10, 0.04, legacy=0.08)
            downloads = self._downloads(r, rank_all[s:e], m).tolist()
            dl_null = self._null(r, m, 0.03)
            likes = self._likes(r, deg_all[s:e])
            likes_null = self._null(r, m, 0.12)
            region = r.choice(3, m, p=[0.9, 0.02, 0.08]).tolist()  # us / eu / null
            lic = r.choice(len(lic_labels), m, p=lic_p).tolist()
            lic_null = self._null(r, m, 0.18)
            nlib, libs = self._lists(r, m, len(MODEL_LIBRARIES), [15, 20, 30, 20, 10, 5], 1.0)
            nlang, langs = self._lists(r, m, len(LANGUAGES), [55, 30, 7, 3, 2, 3], 1.3)
            noth, oth = self._lists(r, m, len(MODEL_OTHER), [10, 15, 25, 25, 15, 10], 0.7)
            kinds = self.model_kind[s:e].tolist()
            bases = self.model_base[s:e]
            base_ids = [None] * m
            has_base = np.nonzero(bases >= 0)[0]
            for i, b in zip(has_base.tolist(), ids[bases[has_base]].tolist()):
                base_ids[i] = b.decode()
            tasks = self.model_task[s:e].tolist()
            da, db = text.md_slices(r, self._desc_lengths(r, m))
            dnull = self._null(r, m, 0.30)
            dstyle = r.random(m).tolist()
            recs = []
            for i in range(m):
                mid = mids[i]
                name = mid.split("/", 1)[1]
                kind = kinds[i]
                lib_l = _pick(MODEL_LIBRARIES, libs[i], nlib[i])
                if kind in kind_lib and kind_lib[kind] not in lib_l:
                    lib_l.insert(0, kind_lib[kind])
                oth_l = _pick(MODEL_OTHER, oth[i], noth[i])
                if kind in kind_other and kind_other[kind] not in oth_l:
                    oth_l.append(kind_other[kind])
                lang_l = _pick(LANGUAGES, langs[i], nlang[i])
                license_ = None if lic_null[i] else lic_labels[lic[i]]
                task = task_ids[tasks[i]] if tasks[i] >= 0 else None
                if dnull[i]:
                    head = None
                else:
                    st = dstyle[i]
                    if st < 0.5:
                        head = "---\n"
                        if license_:
                            head += f"license: {license_}\n"
                        if lang_l:
                            head += "language:\n" + "".join(f"- {x}\n" for x in lang_l)
                        if lib_l:
                            head += f"library_name: {lib_l[0]}\n"
                        if base_ids[i]:
                            head += f"base_model: {base_ids[i]}\n"
                        if task:
                            head += f"pipeline_tag: {task}\n"
                        if oth_l:
                            head += "tags:\n" + "".join(f"- {x}\n" for x in oth_l)
                        head += f"---\n\n# {name}\n\n"
                    elif st < 0.85:
                        head = f"# {name}\n\n"
                    else:
                        head = (f"# Model Card for {name}\n\n"
                                "<!-- Provide a quick summary of what the model is/does. -->\n\n")
                    if base_ids[i]:
                        head += (f"This model is {kind_words[kind]} "
                                 f"[{base_ids[i]}](https://huggingface.co/{base_ids[i]}).\n\n")
                rec = (
                    f' {{\n  "id": {_q(mid)},\n  "name": {_q(name)},\n  "createdAt": {_js(created[i])},\n'
                    f'  "lastModified": {_js(modified[i])},\n  "downloads": {"null" if dl_null[i] else downloads[i]},\n'
                    f'  "likes": {"null" if likes_null[i] else likes[i]},\n'
                    f'  "region": {_js(regions[region[i]])},\n  "other": {_jlist(oth_l)},\n'
                    f'  "libraries": {_jlist(lib_l)},\n  "license": {_js(license_)},\n'
                    f'  "languages": {_jlist(lang_l)},\n'
                    f'  "pipeline_tag": {_jlist([task] if task else [])},\n  "description": ')
                if head is None:
                    recs.append((rec + "null\n }").encode("utf-8"))
                else:
                    recs.append((rec + _q(head)[:-1]).encode("utf-8") + md[da[i]:db[i]] + b'"\n }')
            w.write(recs)
        self.counts["models.json"] = w.close()

    def write_datasets(self) -> None:
        n = self.n["dataset"]
        r = self.rng("dataset-records")
        text = self.text
        md = text.md_esc
        ids = self.ids["dataset"]
        rank_all = self.dataset_rank
        deg_all = getattr(self, "dataset_like_deg", np.zeros(n, dtype=np.int32))
        t_off, t_task = getattr(self, "dataset_tasks", (np.zeros(n + 1, dtype=np.int64), np.zeros(0, dtype=np.int64)))
        c_off, c_pap = getattr(self, "dataset_cites", (np.zeros(n + 1, dtype=np.int64), np.zeros(0, dtype=np.int64)))
        pids = self.ids["paper"]
        lic_labels, lic_p = _weights(DATASET_LICENSES)
        task_ids = [t[0] for t in TASKS]
        w = _ArrayWriter(self.rel_dir / "datasets.json")
        for s in range(0, n, self.CHUNK):
            e = min(n, s + self.CHUNK)
            m = e - s
            dids = [x.decode() for x in ids[s:e].tolist()]
            created, modified = self._dates(r, m, 0.10, 0.04, legacy=0.03)
            downloads = self._downloads(r, rank_all[s:e], m, 5e6).tolist()
            dl_null = self._null(r, m, 0.03)
            likes = self._likes(r, deg_all[s:e])
            likes_null = self._null(r, m, 0.12)
            bare = (r.random(m) < 0.15).tolist()  # no card, no metadata
            nlib, libs = self._lists(r, m, len(DATASET_LIBRARIES), [30, 5, 5, 10, 45, 5], 0.3)
            nlic = r.choice(3, m, p=[0.40, 0.58, 0.02]).tolist()
            lics_p = r.choice(len(lic_labels), (m, 2), p=lic_p).tolist()
            nlang, langs = self._lists(r, m, len(LANGUAGES), [45, 40, 7, 3, 2, 3], 1.3)
            noth, oth = self._lists(r, m, len(DATASET_OTHER), [80, 15, 5], 0.6, 2)
            nsub, subs = self._lists(r, m, len(SUB_TASKS), [80, 12, 5, 3], 0.6, 3)
            size = r.choice(len(SIZES), m, p=_zipf_p(len(SIZES), 0.3)[[2, 1, 0, 3, 4, 5, 6, 7, 8, 9, 10]]).tolist()
            nsize = (r.random(m) < 0.75).tolist()
            nfmt, fmts = self._lists(r, m, len(FORMATS), [20, 70, 10], 1.2, 2)
            nmod, mods = self._lists(r, m, len(MODALITIES), [20, 50, 25, 5], 1.0, 3)
            region = (r.random(m) < 0.9).tolist()
            da, db = text.md_slices(r, self._desc_lengths(r, m, 1200, 1.3))
            dnull = self._null(r, m, 0.20)
            toff = t_off[s:e + 1].tolist()
            coff = c_off[s:e + 1].tolist()
            recs = []
            for i in range(m):
                did = dids[i]
                name = did.split("/", 1)[1]
                tasks = [task_ids[j] for j in t_task[toff[i]:toff[i + 1]].tolist()]
                arx = [pids[j].decode() for j in c_pap[coff[i]:coff[i + 1]].tolist()]
                if bare[i] and not tasks and not arx:
                    lib_l = lic_l = lang_l = oth_l = sub_l = size_l = fmt_l = mod_l = tags = []
                    head = None
                else:
                    lib_l = _pick(DATASET_LIBRARIES, libs[i], nlib[i])
                    if nlib[i] == 4:
                        lib_l = ["datasets", "pandas", "mlcroissant", "polars"]
                    lic_l = _pick(lic_labels, lics_p[i], nlic[i])
                    lang_l = _pick(LANGUAGES, langs[i], nlang[i])
                    oth_l = _pick(DATASET_OTHER, oth[i], noth[i])
                    sub_l = _pick(SUB_TASKS, subs[i], nsub[i])
                    size_l = [SIZES[size[i]]] if nsize[i] else []
                    fmt_l = _pick(FORMATS, fmts[i], nfmt[i])
                    mod_l = _pick(MODALITIES, mods[i], nmod[i])
                    tags = ([f"task_categories:{x}" for x in tasks] + [f"task_ids:{x}" for x in sub_l]
                            + [f"language:{x}" for x in lang_l] + [f"license:{x}" for x in lic_l]
                            + [f"size_categories:{x}" for x in size_l] + [f"format:{x}" for x in fmt_l]
                            + [f"modality:{x}" for x in mod_l] + [f"library:{x}" for x in lib_l]
                            + [f"arxiv:{x}" for x in arx] + (["croissant"] if "mlcroissant" in lib_l else [])
                            + (["region:us"] if region[i] else []) + oth_l)
                    if dnull[i]:
                        head = None
                    else:
                        head = ""
                        if tasks or lic_l:
                            head = "---\n"
                            if lic_l:
                                head += f"license: {lic_l[0]}\n"
                            if tasks:
                                head += "task_categories:\n" + "".join(f"- {x}\n" for x in tasks)
                            if size_l:
                                head += f"size_categories:\n- {size_l[0]}\n"
                            head += "---\n\n"
                        head += f'# Dataset Card for "{name}"\n\n' if da[i] % 2 else f"# {name}\n\n"
                rec = (
                    f' {{\n  "id": {_q(did)},\n  "name": {_q(name)},\n  "createdAt": {_js(created[i])},\n'
                    f'  "lastModified": {_js(modified[i])},\n  "downloads": {"null" if dl_null[i] else downloads[i]},\n'
                    f'  "likes": {"null" if likes_null[i] else likes[i]},\n  "libraries": {_jlist(lib_l)},\n'
                    f'  "license": {_js(lic_l[-1] if lic_l else None)},\n  "languages": {_jlist(lang_l)},\n  "other": {_jlist(oth_l)},\n'
                    f'  "sub-tasks": {_jlist(sub_l)},\n  "tasks": {_jlist(tasks)},\n  "size": {_js(size_l[-1] if size_l else None)},\n'
                    f'  "formats": {_jlist(fmt_l)},\n  "modalities": {_jlist(mod_l)},\n  "tags": {_jlist(tags)},\n'
                    f'  "description": ')
                if head is None:
                    recs.append((rec + "null\n }").encode("utf-8"))
                else:
                    recs.append((rec + _q(head)[:-1]).encode("utf-8") + md[da[i]:db[i]] + b'"\n }')
            w.write(recs)
        self.counts["datasets.json"] = w.close()

    def write_spaces(self) -> None:
        n = self.n["space"]
        r = self.rng("space-records")
        ids = self.ids["space"]
        deg_all = getattr(self, "space_like_deg", np.zeros(n, dtype=np.int32))
        sdk_labels, sdk_p = _weights(SPACE_SDKS)
        w = _ArrayWriter(self.rel_dir / "spaces.json")
        for s in range(0, n, self.CHUNK):
            e = min(n, s + self.CHUNK)
            m = e - s
            sids = [x.decode() for x in ids[s:e].tolist()]
            created, modified = self._dates(r, m, 0.10, 0.04)
            likes = self._likes(r, deg_all[s:e])
            likes_null = self._null(r, m, 0.12)
            name_null = self._null(r, m, 0.005)
            sdk = r.choice(len(sdk_labels), m, p=sdk_p).tolist()
            extra = r.choice(len(SPACE_EXTRA), m).tolist()
            has_extra = (r.random(m) < 0.08).tolist()
            no_tags = (r.random(m) < 0.06).tolist()
            region = (r.random(m) < 0.95).tolist()
            recs = []
            for i in range(m):
                sid = sids[i]
                if no_tags[i]:
                    tags = []
                else:
                    tags = [sdk_labels[sdk[i]]] + ([SPACE_EXTRA[extra[i]]] if has_extra[i] else []) \
                        + (["region:us"] if region[i] else [])
                recs.append(
                    f' {{\n  "id": {_q(sid)},\n  "name": {"null" if name_null[i] else _q(sid.split("/", 1)[1])},\n'
                    f'  "createdAt": {_js(created[i])},\n  "lastModified": {_js(modified[i])},\n'
                    f'  "likes": {"null" if likes_null[i] else likes[i]},\n  "tags": {_jlist(tags)}\n }}')
            w.write(recs)
        self.counts["spaces.json"] = w.close()

    def _fullname(self, i: int, uid: str, x: float) -> str | None:
        if i < self.n_known_users:
            return KNOWN_USERS[i][1]
        if x < 0.15:
            return None
        if x < 0.25:
            return uid
        if x < 0.29:
            return CJK_NAMES[int(x * 1e6) % len(CJK_NAMES)]
        first = FIRST_NAMES[self.user_first[i]][0]
        last = LAST_NAMES[self.user_last[i]][0]
        if x < 0.31:
            return f"{first} {last} {CJK_NAMES[int(x * 1e6) % len(CJK_NAMES)]}"
        if x < 0.33:
            return first
        return f"{first} {last}"

    def write_users(self) -> None:
        n = self.n["user"]
        r = self.rng("user-records")
        ids = self.ids["user"]
        w = _ArrayWriter(self.rel_dir / "users.json")
        for s in range(0, n, self.CHUNK * 4):
            e = min(n, s + self.CHUNK * 4)
            uids = [x.decode() for x in ids[s:e].tolist()]
            xs = r.random(e - s).tolist()
            w.write([f' {{\n  "id": {_q(uid)},\n  "fullname": {_js(self._fullname(s + i, uid, xs[i]))}\n }}'
                     for i, uid in enumerate(uids)])
        self.counts["users.json"] = w.close()

    def write_orgs(self) -> None:
        n = self.n["org"]
        r = self.rng("org-records")
        known = dict(KNOWN_ORGS)
        recs = []
        for oid, x in zip((x.decode() for x in self.ids["org"].tolist()), r.random(n).tolist()):
            if oid in known:
                full = known[oid]
            elif x < 0.12:
                full = None
            else:
                toks = [t for t in re.split(r"[-_]", oid) if t]
                full = " ".join(INSTITUTIONS.get(t, t if t != t.lower() else t.capitalize()) for t in toks)
            recs.append(f' {{\n  "id": {_q(oid)},\n  "fullname": {_js(full)}\n }}')
        w = _ArrayWriter(self.rel_dir / "orgs.json")
        w.write(recs)
        self.counts["orgs.json"] = w.close()

    def write_papers(self) -> None:
        n = self.n["paper"]
        r = self.rng("paper-records")
        pr = random.Random(self.seed * 41 + 3)
        text = self.text
        ids = [x.decode() for x in self.ids["paper"].tolist()]
        uids = self.ids["user"]
        p_off, p_usr = getattr(self, "paper_users", (np.zeros(n + 1, dtype=np.int64), np.zeros(0, dtype=np.int64)))
        cited = getattr(self, "paper_cited", np.zeros(n, dtype=np.int64))
        ym = self.paper_ym.tolist()
        up = (np.floor(np.exp(r.normal(0.5, 1.4, n)) + cited * r.random(n) * 0.2)).astype(np.int64).tolist()
        up_null = self._null(r, n, 0.10)
        pub_null = self._null(r, n, 0.05)
        title_null = self._null(r, n, 0.03)
        sum_null = self._null(r, n, 0.04)
        slen = np.clip(r.normal(1100, 350, n), 150, 2400).astype(np.int64)
        sstart = text.ab_starts_for(r, slen).tolist()
        slen = slen.tolist()
        nauth = np.clip(np.exp(r.normal(1.5, 0.7, n)), 1, 60).astype(np.int64).tolist()
        no_auth = self._null(r, n, 0.03)
        nouns = "Models Transformers Networks Agents Benchmarks Representations Embeddings Alignment Reasoning Retrieval Diffusion Attention Scaling Distillation Quantization".split()
        adjs = "Efficient Scalable Robust Multilingual Multimodal Sparse Unified Contrastive Self-Supervised Instruction-Tuned Long-Context Open Small Large Zero-Shot".split()
        things = "Language Models, Vision-Language Models, Speech Recognition, Code Generation, Text-to-Image Synthesis, Mathematical Reasoning, Question Answering, Machine Translation, Graph Learning, Reinforcement Learning from Human Feedback, Time Series Forecasting, Protein Structure Prediction".split(", ")
        w = _ArrayWriter(self.rel_dir / "papers.json")
        recs = []
        for i in range(n):
            if len(recs) == self.CHUNK:
                w.write(recs)
                recs = []
            pid = ids[i]
            authors = [] if no_auth[i] else [
                f"{pr.choice(FIRST_NAMES)[0]} {pr.choice(LAST_NAMES)[0]}" for _ in range(nauth[i])]
            for j in p_usr[p_off[i]:p_off[i + 1]].tolist():  # registered authors who publish it
                fn = self._fullname(j, uids[j].decode(), (j * 0.6180339887) % 1.0) or uids[j].decode()
                authors.insert(pr.randint(0, len(authors)), fn)
            y, mo = divmod(ym[i], 100)
            pub = None if pub_null[i] else (f"{y:04d}-{mo:02d}-{pr.randint(1, 28):02d}T"
                                            f"{pr.randint(0, 23):02d}:{pr.randint(0, 59):02d}:{pr.randint(0, 59):02d}.000Z")
            x = pr.random()
            if x < 0.3:
                title = f"{pr.choice(adjs)} {pr.choice(nouns)} for {pr.choice(things)}"
            elif x < 0.55:
                title = f"{pr.choice(FAMILIES).split('-')[0]}: {pr.choice(adjs)} {pr.choice(nouns)} via {pr.choice(adjs)} {pr.choice(nouns)}"
            elif x < 0.7:
                title = f"Towards {pr.choice(adjs)} {pr.choice(things)}"
            elif x < 0.8:
                title = f"On the {pr.choice(nouns)} of {pr.choice(things)}"
            elif x < 0.9:
                title = f"{pr.choice(nouns)} Is All You Need"
            else:
                title = f"{pr.choice(DS_BASES).upper()}: A {pr.choice(adjs)} Benchmark for {pr.choice(things)}"
            summary = None if sum_null[i] else text.abstract[sstart[i]:sstart[i] + slen[i]].strip()
            recs.append(
                f' {{\n  "id": {_q(pid)},\n  "authors": {_jlist(authors)},\n  "publishedAt": {_js(pub)},\n'
                f'  "title": {"null" if title_null[i] else _q(title)},\n  "summary": {_js(summary)},\n'
                f'  "upvotes": {"null" if up_null[i] else up[i]}\n }}')
        w.write(recs)
        self.counts["papers.json"] = w.close()

    def write_collections(self) -> None:
        n = self.n["collection"]
        r = self.rng("collection-records")
        text = self.text
        ids = self.ids["collection"]
        up = np.floor(np.exp(r.normal(-0.5, 1.6, n))).astype(np.int64).tolist()
        up_null = self._null(r, n, 0.08)
        title_null = self._null(r, n, 0.03)
        d_null = self._null(r, n, 0.5)
        dlen = np.clip(np.exp(r.normal(np.log(90), 0.8, n)), 10, 600).astype(np.int64)
        dstart = text.ab_starts_for(r, dlen).tolist()
        dlen = dlen.tolist()
        w = _ArrayWriter(self.rel_dir / "collections.json")
        for s in range(0, n, self.CHUNK * 4):
            e = min(n, s + self.CHUNK * 4)
            recs = []
            for i, slug in zip(range(s, e), ids[s:e].tolist()):
                desc = None if d_null[i] else text.abstract[dstart[i]:dstart[i] + dlen[i]].replace("\n", " ").strip()
                recs.append(
                    f' {{\n  "slug": {_q(slug.decode())},\n  "title": {"null" if title_null[i] else _q(self.collection_titles[i])},\n'
                    f'  "upvotes": {"null" if up_null[i] else up[i]},\n  "description": {_js(desc)}\n }}')
            w.write(recs)
        self.counts["collections.json"] = w.close()

    # -- main

    def run(self) -> dict:
        self.rel_dir.mkdir(parents=True, exist_ok=True)
        self.pub_edges: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.owners: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.text = _TextBank(self.seed)
        self.log("text bank built")
        self.make_accounts()
        self.log(f"{self.n['user']} users, {self.n['org']} orgs")
        self._model_prefix = self.make_ownership("model", "user_publish_model", "org_publish_model", 0.85, 0.9)
        ds_prefix = self.make_ownership("dataset", "user_publish_dataset", "org_publish_dataset", 0.8, 0.9)
        sp_prefix = self.make_ownership("space", "user_publish_space", "org_publish_space", 0.8, 0.9)
        col_prefix = self.make_ownership("collection", "user_own_collection", "org_own_collection", 0.7, 0.9)
        self.make_lineage()
        self.make_model_ids()
        w = _Vocab(HANDLE_WORDS, 0.2)
        wc = _Vocab(HANDLE_WORDS, 0.2, str.capitalize)
        base, mod = _Vocab(DS_BASES, 0.4), _Vocab(DS_MODS, 0.4)
        self.make_simple_ids("dataset", ds_prefix, [
            (10, [base]), (35, [base, b"-", mod]), (15, [base, b"_", mod]), (15, [base, b"-", mod, b"-", mod]),
            (8, [w, b"-", w, b"-dataset"]), (7, [w, b"_", w, b"_", _Digits(1, 1000)]),
            (5, [_Vocab(["dataset", "test", "data", "my_dataset"], 0.3), b"-", _Digits(1, 100000)]),
            (5, [_Vocab(FAMILIES, 0.6), b"-", mod]),
        ], top_vocab=_Vocab(DS_BASES, 0.3))
        demo, fam = _Vocab(SPACE_WORDS, 0.4), _Vocab(FAMILIES, 0.6)
        self.make_simple_ids("space", sp_prefix, [
            (20, [fam, b"-", demo]), (25, [w, b"-", demo]), (10, [demo]), (10, [demo, b"-", _Digits(1, 1000)]),
            (10, [wc, wc]), (10, [w, b"_", demo]), (5, [fam]), (10, [w, b"-", w, b"-", demo]),
        ])
        self.make_paper_ids()
        self.make_collection_ids(col_prefix)
        del ds_prefix, sp_prefix, col_prefix
        self.ids["task"] = _b([t[0] for t in TASKS])
        self.log("ids made")
        self.write_relations()
        # from here on only the popularity ranks of models and datasets are needed (downloads)
        self.model_rank = self.pop("model", "pop").rank
        self.dataset_rank = self.pop("dataset", "pop").rank
        self._pops.clear()
        self.owners.clear()
        self.write_tasks()
        self.write_users()
        self.write_orgs()
        self.log("tasks, users, orgs written")
        self.write_papers()
        self.write_collections()
        self.write_spaces()
        self.log("papers, collections, spaces written")
        self.write_datasets()
        self.log("datasets written")
        self.write_models()
        self.log("models written")
        order = [f"{ENTITY_FILES[t][0]}.json" for t in ENTITY_FILES] + [f"{r[0]}.json" for r in RELATIONS]
        return {k: self.counts[k] for k in order + ["triples.txt"]}


def expected_counts(scale: float) -> dict:
    """round(scale * published count) per file (52 tasks always); triples.txt = all edges."""
    out = {f"{f}.json": (len(TASKS) if t == "task" else round(scale * c)) for t, (f, c) in ENTITY_FILES.items()}
    out.update({f"{r[0]}.json": round(scale * r[5]) for r in RELATIONS})
    out["triples.txt"] = sum(round(scale * r[5]) for r in RELATIONS)
    return out


def generate(out_dir: Path, scale: float, seed: int = 0, verbose: bool = False) -> dict:
    """Write a synthetic release under out_dir; return the number of records per file."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    return _Generator(out_dir, scale, seed, verbose).run()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=float, required=True, help="fraction of the published counts (1.0 = full size)")
    ap.add_argument("-o", "--out", type=Path, required=True, help="output directory")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    args = ap.parse_args(argv)
    t = time.perf_counter()
    try:
        counts = generate(args.out, args.scale, args.seed, args.verbose)
    except ValueError as error:
        ap.error(str(error))
    print(json.dumps({"seconds": round(time.perf_counter() - t, 2), "counts": counts}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
