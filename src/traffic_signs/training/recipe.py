"""The training recipe: every setting of a run, and its spelling on the command line both ways.

:class:`TrainConfig` is what a run trains with and records in its model files
(``train_config``). ``augment_config`` reads ``--augment KEY=VALUE`` flags into it;
``changed_settings`` and ``training_command`` write a recorded recipe back as the flags and
the command that repeat it. Torch-free, so the command line can state its defaults from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from traffic_signs.data.augment_config import HARSH, NAMED_SETTINGS, AugmentConfig
from traffic_signs.data.split import DEFAULT_SPLIT_SEED, DEFAULT_VAL_FRACTION, SplitSpec
from traffic_signs.errors import TrafficSignsError
from traffic_signs.models.model_file import Member, ModelFile

PRECISIONS = ("auto", "fp32", "bf16")
TEACH_ON = ("all", "photos")  # where a --teacher's answers are learnt (see training.losses)


@dataclass
class TrainConfig:
    model: str
    epochs: int = 30
    time_budget: float | None = None  # seconds; the schedule is sized to fit, then stops
    batch_size: int = 256
    lr: float = 1e-2
    weight_decay: float = 5e-2
    warmup_steps: int = 100
    label_smoothing: float = 0.1
    balance: float = 0.5  # 0 = natural class frequencies, 1 = uniform over classes
    seed: int = 0
    val_fraction: float = DEFAULT_VAL_FRACTION
    split_seed: int = DEFAULT_SPLIT_SEED
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    data_dir: str | None = None
    cache_dir: str | None = None
    limit_train: int | None = None  # train on a random N-image subset (quick runs and tests)
    precision: str = "auto"  # "fp32", "bf16", or "auto": bf16 where the hardware computes it natively
    outlier_weight: float = 0.0  # weight of the "no sign" loss on the outliers below (0: none drawn)
    outliers: tuple[str, ...] = ("upside_down",)  # kinds of outlier drawn (data.photo_views.OUTLIER_KINDS)
    photo_framing: float = 0.0  # share of each batch's signs re-framed as photos show them (data.photo_views)
    drawn_designs: str = "speed"  # which GTSRB signs those views draw: speed limits, "all" CLASS_DESIGNS, "every" class
    init: str | None = None  # fine-tune from these weights: a model file, or FILE:K for a committee's member K
    consistency: float = 0.0  # weight of the same-answer loss on a corrupted copy (0: none drawn)
    distill: float = 0.0  # weight of the loss keeping the --init model's answers on the signs (0: off)
    teacher: str | None = None  # with distill: learn this model file's answers on every picture instead
    teach_on: str = "all"  # the teacher's answers on "all" pictures, or on the "photos" views and outliers only
    distill_temperature: float = 1.0  # softens both answers before comparing them (Hinton et al. 2015)
    freeze_blocks: int = 0  # keep the stem and this many first blocks of a pretrained backbone as they are
    harsh: AugmentConfig = field(default_factory=lambda: HARSH)  # corruptions of that copy

    def to_dict(self) -> dict[str, Any]:
        """The recipe as model files record it: everything but where the data was read from."""
        out = asdict(self)
        out.pop("data_dir"), out.pop("cache_dir")
        return out

    @property
    def split(self) -> SplitSpec:
        return SplitSpec.of(self.to_dict())


def default(name: str) -> Any:
    """The default of one :class:`TrainConfig` setting, so the command line states none of its own."""
    return next(f.default for f in fields(TrainConfig) if f.name == name)


def augment_config(settings: list[str], base: AugmentConfig | None = None, flag: str = "--augment") -> AugmentConfig:
    """``base`` (default: AugmentConfig()) with ``KEY=VALUE`` overrides; a pair of numbers is written
    ``LOW,HIGH``, a list of names ``NAME,NAME,...``."""
    defaults = base or AugmentConfig()
    known = {f.name: getattr(defaults, f.name) for f in fields(AugmentConfig)}
    changes = {}
    for setting in settings:
        key, _, value = setting.partition("=")
        if key not in known:
            raise TrafficSignsError(f"{flag} {setting}: unknown key {key!r}; choose one of: {', '.join(known)}")
        if key in NAMED_SETTINGS:
            changes[key] = _names(setting, value, NAMED_SETTINGS[key], flag)
            continue
        try:
            numbers = tuple(float(v) for v in value.split(","))
        except ValueError:
            raise TrafficSignsError(f"{flag} {setting}: {value!r} is not a number") from None
        if len(numbers) != (len(known[key]) if isinstance(known[key], tuple) else 1):
            shape = "LOW,HIGH" if isinstance(known[key], tuple) else "one number"
            raise TrafficSignsError(f"{flag} {setting}: {key} takes {shape}")
        changes[key] = numbers if isinstance(known[key], tuple) else numbers[0]
    return replace(defaults, **changes)


def _names(setting: str, value: str, choices: tuple[str, ...], flag: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in value.split(",") if name.strip())
    unknown = [name for name in names if name not in choices]
    if unknown or not names or len(set(names)) < len(names):
        raise TrafficSignsError(f"{flag} {setting}: name each once, among: {', '.join(choices)}")
    return names


def changed_settings(cfg: Mapping[str, Any]) -> list[str]:
    """The flags that repeat a recorded ``train_config``'s departures from the defaults (batch size,
    lr, outliers, consistency, augmentation): the inverse of ``augment_config``."""

    def numbers(value) -> list[float]:
        return [float(v) for v in (value if isinstance(value, (list, tuple)) else [value])]

    flags = [f"--{name.replace('_', '-')} {cfg[name]:g}"
             for name in ("batch_size", "lr", "outlier_weight", "consistency", "photo_framing", "distill",
                          "distill_temperature", "freeze_blocks")
             if name in cfg and numbers(cfg[name]) != numbers(default(name))]
    if cfg.get("drawn_designs", default("drawn_designs")) != default("drawn_designs"):
        flags.append(f"--drawn-designs {cfg['drawn_designs']}")
    if cfg.get("init"):
        flags.append(f"--init {cfg['init']}")
    if cfg.get("teacher"):
        flags.append(f"--teacher {cfg['teacher']}")
    if cfg.get("teach_on", default("teach_on")) != default("teach_on"):
        flags.append(f"--teach-on {cfg['teach_on']}")
    if cfg.get("outlier_weight") and tuple(cfg.get("outliers", default("outliers"))) != default("outliers"):
        flags.append("--outliers " + ",".join(cfg["outliers"]))
    views = [("augment", AugmentConfig())] + ([("harsh", HARSH)] if cfg.get("consistency") else [])
    for view, base in views:
        recorded = cfg.get(view) or {}
        for key, value in asdict(base).items():
            if key not in recorded:
                continue
            if key in NAMED_SETTINGS:
                if tuple(recorded[key]) != tuple(value):
                    flags.append(f"--{view} {key}=" + ",".join(recorded[key]))
            elif numbers(recorded[key]) != numbers(value):
                flags.append(f"--{view} {key}=" + ",".join(f"{v:g}" for v in numbers(recorded[key])))
    return flags


def training_command(model_file: ModelFile, out: str | None = None) -> str:
    """The command that retrains this model; names the arithmetic, since bf16 and fp32 runs differ.

    A committee's command trains each member into its own folder, then averages them.
    """
    if model_file.is_committee:
        return _committee_command(model_file.members or [], out or "runs/committee")
    return _train_command(model_file.architecture, model_file.train_config or {}, model_file.epoch,
                          model_file.precision or "fp32", out)  # runs from before bf16 training were fp32


def _train_command(architecture: str, cfg: Mapping[str, Any], epoch: int | None, precision: str,
                   out: str | None) -> str:
    """One run's command; a soup's trains each ingredient into runs/ARCH-seedS, then averages them."""
    if cfg.get("soup"):
        ingredients = cfg["soup"]
        folders = _distinct([f"runs/{architecture}-seed{i['train_config'].get('seed', 0)}" for i in ingredients],
                            "ingredient")
        steps = [_train_command(architecture, i["train_config"], i.get("epoch"), i.get("precision", "fp32"), folder)
                 for i, folder in zip(ingredients, folders, strict=True)]
        kept = " ".join(f"{folder}/{i.get('checkpoint', 'last')}.json" for i, folder in zip(ingredients, folders,
                                                                                             strict=True))
        share = f" --init-share {cfg['soup_init_share']:g}" if cfg.get("soup_init_share") else ""
        return " && ".join([*steps, f"traffic-signs soup {kept}{share}" + (f" --out {out}" if out else "")])
    epochs, seed = cfg.get("epochs", epoch), cfg.get("seed", 0)
    return (f"traffic-signs train --model {architecture} --epochs {epochs} --seed {seed} "
            f"--precision {precision}" + "".join(f" {flag}" for flag in changed_settings(cfg))
            + (f" --out {out}" if out else ""))


def _committee_command(members: list[Member], out: str) -> str:
    """Train every member into runs/ARCH-seedS (one folder each), then average the checkpoints the
    committee holds."""
    folders = _distinct([f"runs/{m.architecture}-{'soup' if m.train_config.get('soup') else 'seed'}{m.seed}"
                         for m in members], "member")
    steps = [_train_command(m.architecture, m.train_config, m.epoch, m.precision, folder)
             for m, folder in zip(members, folders, strict=True)]
    kept = [folder if m.checkpoint == "best" else f"{folder}/{m.checkpoint}.json"
            for m, folder in zip(members, folders, strict=True)]
    return " && ".join([*steps, f"traffic-signs committee {' '.join(kept)} --out {out}"])


def _distinct(folders: list[str], label: str) -> list[str]:
    """Run folders named by seed, the second of one seed (another recipe) suffixed ``-LABELk``."""
    return [f"{folder}-{label}{k}" if folder in folders[:k] else folder for k, folder in enumerate(folders)]
