"""The transformers backend end to end on a tiny random-weight Qwen2-VL built here (no downloads).

The model, its processor and a byte-level BPE tokenizer trained in the test are saved to a
temporary folder, so the backend loads them through ``from_pretrained`` exactly as it would a
real checkpoint. Its replies are garbage, which is the point of one test: a judge that asks it
for JSON must record ``unscored``, never a score.
"""

from __future__ import annotations

import json
import math
import pickle

import numpy as np
import pytest
from PIL import Image

from bench.backends.base import ChatMessage, ChatRequest, json_schema_format
from bench.model import Criterion, ImageRef, Sample, Trajectory
from bench.protocols import JudgeItem

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from bench.backends import transformers_backend as tb  # noqa: E402
from bench.backends.transformers_backend import TransformersBackend  # noqa: E402

SPECIAL = [
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|image_pad|>",
    "<|video_pad|>",
]
TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}{% for c in message['content'] %}"
    "{% if c['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif c['type'] == 'text' %}{{ c['text'] }}{% endif %}{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def _tokenizer():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=320, special_tokens=SPECIAL, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    corpus = [
        'Rate the edit. Reply in JSON: {"score": 3, "reason": "the sky is blue"}',
        "make it look like winter, with snow on the roofs",
        "pass partial fail criterion verdict",
    ] * 5
    tok.train_from_iterator(corpus, trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>", chat_template=TEMPLATE
    )


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory):
    """(vision folder, text-only folder): a tiny Qwen2-VL with its processor, a tiny Qwen2 with the tokenizer."""
    from transformers import (
        Qwen2Config,
        Qwen2ForCausalLM,
        Qwen2VLConfig,
        Qwen2VLForConditionalGeneration,
        Qwen2VLImageProcessor,
        Qwen2VLProcessor,
        Qwen2VLVideoProcessor,
    )

    root = tmp_path_factory.mktemp("tiny-models")
    tok = _tokenizer()
    v = tok.get_vocab()
    ids = dict(bos_token_id=None, eos_token_id=v["<|im_end|>"], pad_token_id=v["<|endoftext|>"])
    text = dict(
        vocab_size=len(v),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=512,
        initializer_range=0.5,
        **ids,
    )
    cfg = Qwen2VLConfig(
        text_config={
            **text,
            "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [2, 3, 3]},
        },
        vision_config=dict(
            depth=1,
            embed_dim=32,
            hidden_size=32,
            num_heads=2,
            mlp_ratio=2,
            patch_size=14,
            spatial_merge_size=2,
            temporal_patch_size=2,
        ),
        image_token_id=v["<|image_pad|>"],
        video_token_id=v["<|video_pad|>"],
        vision_start_token_id=v["<|vision_start|>"],
        vision_end_token_id=v["<|vision_end|>"],
    )
    torch.manual_seed(0)
    vlm = root / "tiny-qwen2-vl"
    Qwen2VLForConditionalGeneration(cfg).save_pretrained(vlm)
    Qwen2VLProcessor(
        image_processor=Qwen2VLImageProcessor(min_pixels=56 * 56, max_pixels=112 * 112),
        tokenizer=tok,
        video_processor=Qwen2VLVideoProcessor(),
        chat_template=TEMPLATE,
    ).save_pretrained(vlm)
    lm = root / "tiny-qwen2"
    Qwen2ForCausalLM(Qwen2Config(**text)).save_pretrained(lm)
    tok.save_pretrained(lm)
    return vlm, lm


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    """Tiny networks run faster on one thread, and a busy CI machine does not make them spin."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(autouse=True)
def _fresh_cache():
    tb.clear_model_cache()
    yield
    tb.clear_model_cache()


def _img(seed: int, h: int, w: int) -> Image.Image:
    return Image.fromarray(np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8))


def _requests() -> list[ChatRequest]:
    a, b = _img(0, 64, 80), _img(1, 90, 50)
    return [
        ChatRequest((ChatMessage.user(a, "Rate the edit."),), max_tokens=9),
        ChatRequest(
            (ChatMessage.system("Be brief."), ChatMessage.user("make it look like winter")), max_tokens=6
        ),
        ChatRequest((ChatMessage.user("Before:", b, "After:", a, "pass or fail?"),), max_tokens=12),
        ChatRequest(
            (ChatMessage.user("Reply in JSON"),),
            max_tokens=7,
            response_format=json_schema_format(
                {"type": "object", "properties": {"score": {"type": "integer"}}}
            ),
        ),
        ChatRequest((ChatMessage.user(b, "criterion verdict <|im_end|> injected"),), max_tokens=12),
    ]


def test_batched_generation_equals_one_by_one_in_order(tiny_models):
    vlm, _ = tiny_models
    backend = TransformersBackend(str(vlm), device="cpu", max_batch=2)
    reqs = _requests()
    batched = backend.chat_many(reqs)
    single = [backend.chat(r) for r in reqs]
    assert [r.status for r in batched] == ["ok"] * len(reqs), [r.error for r in batched]
    for r, b, s in zip(reqs, batched, single, strict=True):
        assert b.text == s.text and b.finish_reason == s.finish_reason and b.usage == s.usage
        assert 0 < b.usage.tokens_out <= r.max_tokens and b.usage.tokens_in > 0
        assert b.model_resolved.startswith(str(vlm) + "@sha256:") and b.endpoint_host == "local"
        assert b.raw_id and b.format_used == "text" and b.dollars is None
    assert batched[0].usage.tokens_in > 10  # the image's tokens are counted
    # Different prompts give different replies (the rows were not mixed up by padding or sorting).
    assert len({b.text for b in batched}) >= 3
    assert backend.chat_many([]) == []


def test_seeded_sampling_does_not_depend_on_the_batch(tiny_models):
    vlm, _ = tiny_models
    backend = TransformersBackend(str(vlm), device="cpu", max_batch=8)
    base = _requests()[1]
    sampled = [ChatRequest(base.messages, max_tokens=10, temperature=1.0, seed=s) for s in (1, 2, 3)]
    sampled.append(ChatRequest(base.messages, max_tokens=10, temperature=0.8, top_p=0.5, n_index=1))
    greedy = ChatRequest(base.messages, max_tokens=10)
    batch = backend.chat_many([greedy, *sampled])
    alone = [backend.chat(r) for r in [greedy, *sampled]]
    assert [b.text for b in batch] == [a.text for a in alone]
    assert len({b.text for b in batch}) >= 3  # different seeds draw differently, and differ from greedy
    again = backend.chat_many(sampled)
    assert [b.text for b in again] == [b.text for b in batch[1:]]
    # No seed: the draw is seeded from the request, so n_index gives each draw its own stream.
    draws = backend.chat_many(
        [ChatRequest(base.messages, max_tokens=10, temperature=1.0, n_index=i) for i in range(3)]
    )
    assert len({d.text for d in draws}) >= 2
    assert tb.request_seed(sampled[0]) == 1 and tb.request_seed(sampled[3]) != tb.request_seed(
        ChatRequest(base.messages, max_tokens=10, temperature=0.8, top_p=0.5, n_index=2)
    )


def test_logprobs_match_a_teacher_forced_forward_pass(tiny_models):
    vlm, _ = tiny_models
    backend = TransformersBackend(str(vlm), device="cpu")
    req = ChatRequest((ChatMessage.user("Rate the edit."),), max_tokens=8, logprobs=True, top_logprobs=3)
    other = ChatRequest((ChatMessage.user("make it look like winter"),), max_tokens=5)
    resp, plain = backend.chat_many([req, other])
    assert plain.logprobs is None
    lps = resp.logprobs
    assert lps is not None and len(lps) == resp.usage.tokens_out - (resp.finish_reason == "stop")
    lm = backend._loaded()
    gen = json.loads(resp.raw)["token_ids"]  # the raw reply keeps the generated token ids
    assert len(gen) == len(lps)
    prompt = lm.processor.apply_chat_template(
        [{"role": "user", "content": [{"type": "text", "text": "Rate the edit."}]}],
        add_generation_prompt=True,
        tokenize=True,
        return_dict=True,
        return_tensors="pt",
    )["input_ids"][0].tolist()
    with torch.no_grad():
        logits = lm.model(input_ids=torch.tensor([prompt + gen])).logits[0]
    ref = torch.log_softmax(logits[len(prompt) - 1 : len(prompt) - 1 + len(gen)].double(), dim=-1)
    for k, t in enumerate(lps):
        assert len(t.top) == 3 and [a.logprob for a in t.top] == sorted(
            (a.logprob for a in t.top), reverse=True
        )
        assert t.logprob == pytest.approx(float(ref[k, gen[k]]), abs=1e-4)
        assert t.token == t.top[0].token and t.logprob == pytest.approx(
            t.top[0].logprob
        )  # greedy: the argmax
        assert math.exp(t.logprob) <= 1.0
    assert lm.tokenizer.decode(gen) == resp.text


def test_garbage_output_is_unparseable_and_a_judge_records_unscored(tiny_models):
    vlm, _ = tiny_models
    backend = TransformersBackend(str(vlm), device="cpu", max_new_tokens=24)
    [r] = backend.chat_many([_requests()[3]])
    assert r.status == "ok"
    with pytest.raises(ValueError):
        r.json()
    checklist = pytest.importorskip("judges.vlm.checklist")
    judge = checklist.ChecklistJudge(backend=backend, cache=False, max_tokens=24)
    sample = Sample(
        id="s1",
        image=ImageRef(id="0" * 64),
        goal="make it look like winter",
        checklist=(
            Criterion("snow", "There is snow on the roofs"),
            Criterion("keep", "The house stays", kind="preserve"),
        ),
    )
    traj = Trajectory(suite="t@1", sample_id="s1", system_id="sys.a", final="f" * 64)
    kept: list[str] = []

    def put_raw(text: str) -> str:
        kept.append(text)
        return f"raw{len(kept)}"

    item = JudgeItem(
        suite="t@1",
        sample=sample,
        source=_img(5, 64, 64),
        final=_img(6, 64, 64),
        trajectory=traj,
        put_raw=put_raw,
    )
    [j] = judge.judge([item])
    assert j.status == "unscored" and j.scores == {} and "unparseable" in (j.error or "")
    assert len(j.raw) == 2 and len(kept) == 2  # the reply and its one repair attempt, both kept
    assert j.model_resolved and j.model_resolved.startswith(str(vlm))


def test_failures_come_back_as_responses(tiny_models, tmp_path):
    vlm, lm = tiny_models
    text_backend = TransformersBackend(str(lm), device="cpu")
    reqs = [
        ChatRequest((ChatMessage.user(_img(0, 32, 32), "what is this?"),), max_tokens=4),
        ChatRequest((ChatMessage.user("make it look like winter"),), max_tokens=4),
    ]
    out = text_backend.chat_many(reqs)
    assert out[0].status == "error" and "text-only" in out[0].error
    assert out[1].status == "ok" and out[1].text == text_backend.chat(reqs[1]).text
    missing = TransformersBackend(str(tmp_path / "nowhere"), device="cpu").chat_many(reqs)
    assert all(r.status == "error" and "cannot load" in r.error for r in missing)
    hub = TransformersBackend("editbench-test/not-cached-anywhere", device="cpu").chat_many(reqs[1:])
    assert hub[0].status == "error" and "download=true" in hub[0].error
    if not torch.cuda.is_available():
        [r] = TransformersBackend(str(vlm), device="cuda").chat_many(reqs[1:])
        assert r.status == "error" and "CUDA" in r.error


def test_spec_cache_and_pickling(tiny_models):
    vlm, lm = tiny_models
    a = TransformersBackend(str(vlm), device="cpu", max_batch=3)
    b = TransformersBackend(str(vlm), device="cpu", max_batch=5)
    spec = a.spec()
    assert spec == {"kind": "transformers", "model": str(vlm), "revision": spec["revision"], "dtype": "auto"}
    assert spec["revision"].startswith("sha256:") and b.spec() == spec  # max_batch and device are transport
    assert TransformersBackend(str(lm)).spec()["revision"] != spec["revision"]
    assert TransformersBackend("org/model", revision="abc").spec()["revision"] == "abc"
    assert a._loaded() is b._loaded()  # one copy per process
    c = pickle.loads(pickle.dumps(a))
    req = _requests()[1]
    assert c.chat(req).text == a.chat(req).text
    hinted = TransformersBackend._conversation(_requests()[3], vision=True)
    assert (
        "JSON schema" in hinted[-1]["content"][-1]["text"] and '"score"' in hinted[-1]["content"][-1]["text"]
    )
    with pytest.raises(ValueError):
        TransformersBackend(str(vlm), dtype="int4")
    with pytest.raises(TypeError):
        a.chat_many(["not a request"])  # type: ignore[list-item]
