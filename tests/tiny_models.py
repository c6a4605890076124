"""Tiny random-weight models built from configs, the way diffusers and transformers test themselves.

Nothing here downloads anything: every network is instantiated from a small config with seeded
random weights, every tokenizer is built in code from a byte-level vocabulary, every scheduler
and image processor from its class's defaults. The ``save_*`` helpers write a model folder with
``save_pretrained`` so tests load it back through the real ``from_pretrained(path)`` path, exactly
as a user's downloaded checkpoint would be.

The outputs are meaningless (the weights are random); what these models prove is that the code
paths run end to end: tokenisation, encoding, the denoising loop, decoding, post-processing.

Builders (each returns the object; ``save(kind, root)`` writes it to ``root/kind`` once):

=====================  ==========================================================================
``ip2p``               ``StableDiffusionInstructPix2PixPipeline`` (UNet with 8 input channels)
``sd-inpaint``         ``StableDiffusionInpaintPipeline`` (UNet with 9 input channels)
``flux-kontext``       ``FluxKontextPipeline`` (Flux transformer, CLIP + T5 text encoders)
``qwen-image-edit``    ``QwenImageEditPipeline`` (Qwen-Image transformer, Qwen2.5-VL encoder)
``owlv2``/``owlvit``   an OWLv2 / OWL-ViT open-vocabulary detector and its processor
``grounding-dino``     a Grounding-DINO detector (tiny ResNet backbone, tiny BERT) and processor
``sam``                a SAM model and its processor
=====================  ==========================================================================

Used by ``tests/test_diffusers_tools.py``, ``tests/test_grounding.py`` and, with ``--tiny``,
``benchmarks/bench_editors.py``. torch, diffusers and transformers are imported inside functions.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

#: Special tokens of the byte-level CLIP tokenizer below (placed after 2 x 256 byte symbols and the merges).
_CLIP_SPECIALS = ("<|startoftext|>", "<|endoftext|>")
#: A few merges so common words become single tokens (exercises BPE, not only byte fallback).
_MERGE_WORDS = ("make", "the", "sky", "red", "blue", "a", "cat", "dog", "product", "snow")

_saved: dict[tuple[str, str], str] = {}
_save_lock = threading.Lock()


# ----------------------------------------------------------------------------- tokenizers


def _byte_alphabet() -> list[str]:
    from tokenizers import pre_tokenizers

    return sorted(pre_tokenizers.ByteLevel.alphabet())


def _merges_for(words: tuple[str, ...], suffix: str) -> list[tuple[str, str]]:
    """Left-to-right merges that turn each word (plus ``suffix`` on its last symbol) into one token."""
    merges: list[tuple[str, str]] = []
    for word in words:
        symbols = list(word[:-1]) + [word[-1] + suffix]
        acc = symbols[0]
        for sym in symbols[1:]:
            if (acc, sym) not in merges:
                merges.append((acc, sym))
            acc = acc + sym
    return merges


def clip_tokenizer(model_max_length: int = 77) -> Any:
    """A byte-level BPE ``CLIPTokenizer`` over every byte, with merges for a handful of words.

    It is loaded from a ``vocab.json`` and ``merges.txt`` written here, the way a released CLIP
    tokenizer is, so the same code works with transformers 4 and 5. As in the released vocabulary
    the two special tokens come last, so no real token has id 0 (OWL detectors treat a query whose
    first id is 0 as padding).
    """
    import json
    import tempfile

    from transformers import CLIPTokenizer

    vocab: dict[str, int] = {}
    for ch in _byte_alphabet():
        vocab[ch] = len(vocab)
    for ch in _byte_alphabet():
        vocab[ch + "</w>"] = len(vocab)
    merges = _merges_for(_MERGE_WORDS, "</w>")
    for a, b in merges:
        vocab.setdefault(a + b, len(vocab))
    for tok in _CLIP_SPECIALS:
        vocab[tok] = len(vocab)
    with tempfile.TemporaryDirectory(prefix="editbench-clip-tok-") as folder:
        with open(os.path.join(folder, "vocab.json"), "w", encoding="utf-8") as fh:
            json.dump(vocab, fh)
        with open(os.path.join(folder, "merges.txt"), "w", encoding="utf-8") as fh:
            fh.write("#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in merges))
        return CLIPTokenizer.from_pretrained(folder, model_max_length=model_max_length)


def clip_ids() -> dict[str, int]:
    """``vocab_size``, ``bos_token_id``, ``eos_token_id`` and ``pad_token_id`` of :func:`clip_tokenizer`."""
    tok = clip_tokenizer()
    return {"vocab_size": len(tok), "bos_token_id": tok.bos_token_id, "eos_token_id": tok.eos_token_id,
            "pad_token_id": tok.pad_token_id}


def t5_tokenizer() -> Any:
    """A Unigram ``T5Tokenizer`` over printable ASCII characters (no sentencepiece file needed)."""
    from transformers import T5Tokenizer

    vocab = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("\u2581", -2.0)]
    vocab += [(chr(c), -3.0) for c in range(33, 127)]
    vocab += [("\u2581" + w, -1.0) for w in _MERGE_WORDS]
    return T5Tokenizer(vocab=vocab, extra_ids=0, model_max_length=64)


QWEN_SPECIALS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>",
                 "<|image_pad|>", "<|video_pad|>")


def qwen_tokenizer() -> Any:
    """A byte-level BPE ``Qwen2Tokenizer`` whose special tokens sit right after the byte symbols."""
    from tokenizers import AddedToken
    from transformers import Qwen2Tokenizer

    vocab: dict[str, int] = {}
    for ch in _byte_alphabet():
        vocab[ch] = len(vocab)
    merges = _merges_for(_MERGE_WORDS, "")
    for a, b in merges:
        vocab.setdefault(a + b, len(vocab))
    for tok in QWEN_SPECIALS:
        vocab[tok] = len(vocab)
    tokenizer = Qwen2Tokenizer(vocab=vocab, merges=merges, model_max_length=1024)
    tokenizer.add_special_tokens({"additional_special_tokens": [AddedToken(t, special=True) for t in QWEN_SPECIALS[1:]]})
    return tokenizer


# ----------------------------------------------------------------------------- Stable Diffusion family


def _clip_text_encoder(hidden: int = 16) -> Any:
    import torch
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(0)
    cfg = CLIPTextConfig(hidden_size=hidden, intermediate_size=2 * hidden, num_attention_heads=2, num_hidden_layers=2,
                         max_position_embeddings=77, projection_dim=hidden, **clip_ids())
    return CLIPTextModel(cfg).eval()


def _sd_components(unet_in_channels: int) -> dict[str, Any]:
    """UNet (2 blocks, 16/32 channels), a 2-block VAE (scale factor 2), a 2-layer CLIP text encoder."""
    import torch
    from diffusers import AutoencoderKL, UNet2DConditionModel

    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        block_out_channels=(16, 32), layers_per_block=1, sample_size=16, in_channels=unet_in_channels, out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=16, norm_num_groups=8, attention_head_dim=4,
    )
    torch.manual_seed(0)
    vae = AutoencoderKL(
        block_out_channels=(16, 32), in_channels=3, out_channels=3, down_block_types=("DownEncoderBlock2D",) * 2,
        up_block_types=("UpDecoderBlock2D",) * 2, latent_channels=4, norm_num_groups=8, layers_per_block=1,
        sample_size=32,
    )
    return {"unet": unet, "vae": vae, "text_encoder": _clip_text_encoder(16), "tokenizer": clip_tokenizer(),
            "safety_checker": None, "feature_extractor": None, "image_encoder": None,
            "requires_safety_checker": False}


def ip2p_pipeline() -> Any:
    """A tiny ``StableDiffusionInstructPix2PixPipeline`` (Euler ancestral scheduler, as the released one)."""
    from diffusers import EulerAncestralDiscreteScheduler, StableDiffusionInstructPix2PixPipeline

    return StableDiffusionInstructPix2PixPipeline(scheduler=EulerAncestralDiscreteScheduler(), **_sd_components(8))


def sd_inpaint_pipeline() -> Any:
    """A tiny ``StableDiffusionInpaintPipeline`` (DDIM scheduler, ``steps_offset=1`` as Stable Diffusion 1.5 sets it)."""
    from diffusers import DDIMScheduler, StableDiffusionInpaintPipeline

    return StableDiffusionInpaintPipeline(scheduler=DDIMScheduler(steps_offset=1), **_sd_components(9))


# ----------------------------------------------------------------------------- FLUX.1 Kontext


def flux_kontext_pipeline() -> Any:
    """A tiny ``FluxKontextPipeline``: 1+1-layer Flux transformer, a 1-block VAE, CLIP and T5 encoders."""
    import torch
    from diffusers import (
        AutoencoderKL,
        FlowMatchEulerDiscreteScheduler,
        FluxKontextPipeline,
        FluxTransformer2DModel,
    )
    from transformers import T5Config, T5EncoderModel

    torch.manual_seed(0)
    transformer = FluxTransformer2DModel(
        patch_size=1, in_channels=4, num_layers=1, num_single_layers=1, attention_head_dim=16, num_attention_heads=2,
        joint_attention_dim=32, pooled_projection_dim=32, axes_dims_rope=[4, 4, 8],
    )
    torch.manual_seed(0)
    t5_tok = t5_tokenizer()
    t5 = T5EncoderModel(T5Config(vocab_size=len(t5_tok), d_model=32, d_kv=8, d_ff=37, num_layers=2, num_heads=4,
                                 relative_attention_num_buckets=8, pad_token_id=0, eos_token_id=1)).eval()
    torch.manual_seed(0)
    vae = AutoencoderKL(
        sample_size=32, in_channels=3, out_channels=3, block_out_channels=(4,), layers_per_block=1, latent_channels=1,
        norm_num_groups=1, use_quant_conv=False, use_post_quant_conv=False, shift_factor=0.0609, scaling_factor=1.5035,
    )
    return FluxKontextPipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(), vae=vae, text_encoder=_clip_text_encoder(32),
        tokenizer=clip_tokenizer(), text_encoder_2=t5, tokenizer_2=t5_tok, transformer=transformer,
        image_encoder=None, feature_extractor=None,
    )


# ----------------------------------------------------------------------------- Qwen-Image-Edit


def qwen_image_edit_pipeline() -> Any:
    """A tiny ``QwenImageEditPipeline``: 2-layer Qwen-Image transformer, tiny Qwen VAE, tiny Qwen2.5-VL."""
    import torch
    from diffusers import (
        AutoencoderKLQwenImage,
        FlowMatchEulerDiscreteScheduler,
        QwenImageEditPipeline,
        QwenImageTransformer2DModel,
    )
    from transformers import (
        Qwen2_5_VLConfig,
        Qwen2_5_VLForConditionalGeneration,
        Qwen2VLImageProcessor,
        Qwen2VLProcessor,
        Qwen2VLVideoProcessor,
    )

    tok = qwen_tokenizer()
    ids = {t: tok.convert_tokens_to_ids(t) for t in QWEN_SPECIALS}
    torch.manual_seed(0)
    transformer = QwenImageTransformer2DModel(
        patch_size=2, in_channels=16, out_channels=4, num_layers=2, attention_head_dim=16, num_attention_heads=3,
        joint_attention_dim=16, guidance_embeds=False, axes_dims_rope=(8, 4, 4),
    )
    torch.manual_seed(0)
    vae = AutoencoderKLQwenImage(base_dim=24, z_dim=4, dim_mult=[1, 2, 4], num_res_blocks=1,
                                 temperal_downsample=[False, True], latents_mean=[0.0] * 4, latents_std=[1.0] * 4)
    torch.manual_seed(0)
    cfg = Qwen2_5_VLConfig(
        text_config={"hidden_size": 16, "intermediate_size": 16, "num_hidden_layers": 2, "num_attention_heads": 2,
                     "num_key_value_heads": 2, "vocab_size": len(tok),
                     "rope_scaling": {"mrope_section": [1, 1, 2], "rope_type": "default", "type": "default"},
                     "rope_theta": 1000000.0},
        vision_config={"depth": 2, "hidden_size": 16, "intermediate_size": 16, "num_heads": 2, "out_hidden_size": 16},
        hidden_size=16, vocab_size=len(tok), image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"],
    )
    text_encoder = Qwen2_5_VLForConditionalGeneration(cfg).eval()
    # Small pixel budget: the pipeline resizes the condition image to about 1024x1024; the processor
    # then caps it, which keeps the tiny vision tower's token count (and the test's time) small.
    image_processor = Qwen2VLImageProcessor(min_pixels=56 * 56, max_pixels=112 * 112)
    processor = Qwen2VLProcessor(image_processor=image_processor, tokenizer=tok, video_processor=Qwen2VLVideoProcessor())
    return QwenImageEditPipeline(scheduler=FlowMatchEulerDiscreteScheduler(), vae=vae, text_encoder=text_encoder,
                                 tokenizer=tok, processor=processor, transformer=transformer)


# ----------------------------------------------------------------------------- detectors and SAM


def owl_detector(kind: str = "owlv2") -> tuple[Any, Any]:
    """A tiny OWLv2 (``kind="owlv2"``) or OWL-ViT (``"owlvit"``) detector and its processor (32 px input)."""
    import torch
    from transformers import (
        Owlv2Config,
        Owlv2ForObjectDetection,
        Owlv2ImageProcessor,
        Owlv2Processor,
        OwlViTConfig,
        OwlViTForObjectDetection,
        OwlViTImageProcessor,
        OwlViTProcessor,
    )

    tok = clip_tokenizer(model_max_length=16)
    text = {"hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
            "max_position_embeddings": 16, **clip_ids()}
    vision = {"hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
              "image_size": 32, "patch_size": 8}
    # A small initializer keeps the random box head near its positional prior, so predicted boxes
    # have a sensible size instead of saturating the sigmoid at 0 or 1.
    torch.manual_seed(0)
    if kind == "owlv2":
        model = Owlv2ForObjectDetection(Owlv2Config(text_config=text, vision_config=vision, projection_dim=16,
                                                    initializer_factor=0.01))
        processor = Owlv2Processor(image_processor=Owlv2ImageProcessor(size={"height": 32, "width": 32}), tokenizer=tok)
    elif kind == "owlvit":
        model = OwlViTForObjectDetection(OwlViTConfig(text_config=text, vision_config=vision, projection_dim=16,
                                                      initializer_factor=0.01))
        processor = OwlViTProcessor(
            image_processor=OwlViTImageProcessor(size={"height": 32, "width": 32}, crop_size={"height": 32, "width": 32}),
            tokenizer=tok,
        )
    else:
        raise ValueError(f"unknown OWL kind {kind!r}")
    return model.eval(), processor


def _bert_tokenizer(root: str) -> Any:
    from transformers import BertTokenizer

    os.makedirs(root, exist_ok=True)
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", ",", *_MERGE_WORDS,
             *[chr(c) for c in range(ord("a"), ord("z") + 1)], *[f"##{chr(c)}" for c in range(ord("a"), ord("z") + 1)]]
    path = os.path.join(root, "vocab.txt")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("\n".join(dict.fromkeys(words)) + "\n")
    return BertTokenizer(vocab_file=path, model_max_length=32)


def grounding_dino_detector(scratch: str) -> tuple[Any, Any]:
    """A tiny Grounding-DINO (ResNet-style backbone from config, 1-layer BERT) and its processor.

    ``scratch`` is a folder for the BERT vocabulary file the tokenizer is built from.
    """
    import torch
    from transformers import (
        GroundingDinoConfig,
        GroundingDinoForObjectDetection,
        GroundingDinoImageProcessor,
        GroundingDinoProcessor,
        ResNetConfig,
    )

    tok = _bert_tokenizer(scratch)
    backbone = ResNetConfig(embedding_size=8, hidden_sizes=[8, 16, 32, 64], depths=[1, 1, 1, 1], layer_type="basic",
                            out_features=["stage2", "stage3", "stage4"])
    text = {"model_type": "bert", "vocab_size": len(tok), "hidden_size": 16, "num_hidden_layers": 1,
            "num_attention_heads": 2, "intermediate_size": 32, "max_position_embeddings": 64}
    cfg = GroundingDinoConfig(
        backbone_config=backbone, text_config=text, d_model=32, num_queries=10, encoder_layers=1, decoder_layers=2,
        encoder_ffn_dim=32, decoder_ffn_dim=32, encoder_attention_heads=2, decoder_attention_heads=2,
        num_feature_levels=3, encoder_n_points=2, decoder_n_points=2, max_text_len=32, use_timm_backbone=False,
        use_pretrained_backbone=False,
    )
    torch.manual_seed(0)
    model = GroundingDinoForObjectDetection(cfg).eval()
    processor = GroundingDinoProcessor(
        image_processor=GroundingDinoImageProcessor(size={"shortest_edge": 32, "longest_edge": 64}), tokenizer=tok,
    )
    return model, processor


def sam_model() -> tuple[Any, Any]:
    """A tiny SAM (2-layer ViT on 64 px, small prompt encoder and mask decoder) and its processor."""
    import torch
    from transformers import SamConfig, SamImageProcessor, SamModel, SamProcessor

    vision = {"hidden_size": 16, "output_channels": 16, "num_hidden_layers": 2, "num_attention_heads": 2,
              "image_size": 64, "patch_size": 8, "window_size": 4, "global_attn_indexes": [1], "num_pos_feats": 8,
              "mlp_dim": 32}
    prompt = {"hidden_size": 16, "image_size": 64, "patch_size": 8, "mask_input_channels": 4}
    decoder = {"hidden_size": 16, "mlp_dim": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
               "iou_head_hidden_dim": 16}
    torch.manual_seed(0)
    model = SamModel(SamConfig(vision_config=vision, prompt_encoder_config=prompt, mask_decoder_config=decoder)).eval()
    image_processor = SamImageProcessor(size={"longest_edge": 64}, pad_size={"height": 64, "width": 64},
                                        mask_size={"longest_edge": 16}, mask_pad_size={"height": 16, "width": 16})
    return model, SamProcessor(image_processor=image_processor)


# ----------------------------------------------------------------------------- saving


def _save_pair(pair: tuple[Any, Any], path: str) -> None:
    model, processor = pair
    model.save_pretrained(path)
    processor.save_pretrained(path)


SAVERS: dict[str, Callable[[str], None]] = {
    "ip2p": lambda p: ip2p_pipeline().save_pretrained(p),
    "sd-inpaint": lambda p: sd_inpaint_pipeline().save_pretrained(p),
    "flux-kontext": lambda p: flux_kontext_pipeline().save_pretrained(p),
    "qwen-image-edit": lambda p: qwen_image_edit_pipeline().save_pretrained(p),
    "owlv2": lambda p: _save_pair(owl_detector("owlv2"), p),
    "owlvit": lambda p: _save_pair(owl_detector("owlvit"), p),
    "grounding-dino": lambda p: _save_pair(grounding_dino_detector(p + ".vocab"), p),
    "sam": lambda p: _save_pair(sam_model(), p),
}


def save(kind: str, root: str) -> str:
    """Build the tiny ``kind`` and write it to ``root/kind`` with ``save_pretrained`` (once per root)."""
    if kind not in SAVERS:
        raise KeyError(f"unknown tiny model {kind!r}; known: {', '.join(sorted(SAVERS))}")
    key = (kind, os.path.abspath(root))
    with _save_lock:
        if key not in _saved:
            path = os.path.join(root, kind)
            SAVERS[kind](path)
            _saved[key] = path
        return _saved[key]
