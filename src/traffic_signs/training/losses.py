"""What a training step minimises: cross-entropy on the signs, plus the terms the recipe turns on.

With ``outlier_weight`` > 0 each batch also carries pictures of no GTSRB sign (upside-down signs,
backgrounds, fragments, other countries' signs: ``outliers``), and the loss pushes the
model's answer on them towards "no class in particular" (outlier exposure, Hendrycks et al.
2019), so that a confident answer means a sign it knows. With ``consistency`` > 0 each batch
also carries a harshly corrupted copy of itself, and the loss asks for the same answer on both
copies (Jensen-Shannon consistency, as in AugMix, Hendrycks et al. 2020): the copy teaches
robustness without a label of its own. With ``distill`` > 0 (fine-tuning only) the model also
keeps the answers its ``--init`` weights give on the batch's signs (learning without
forgetting, Li & Hoiem 2016): a fine-tune that learns new outliers then moves what it already
knew as little as it can. With a ``teacher`` (another trained model, typically a larger
pretrained one) ``distill`` instead asks for the teacher's answers on every picture of the batch,
outliers and photo views included (knowledge distillation, Hinton et al. 2015): that is where a
pretrained teacher knows more than the model about real photos and unknown signs. With
``teach_on="photos"`` the plain signs' targets are the ``--init`` model's answers instead, so a
teacher weaker on GTSRB's own signs teaches only where it reads better (``loop.teacher_answers``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from traffic_signs.training.recipe import TrainConfig


def training_loss(cfg: TrainConfig, logits: dict[str, torch.Tensor], labels: torch.Tensor,
                  teacher_logits: torch.Tensor | None = None) -> torch.Tensor:
    """The step's loss from the logits of each view of the batch (see ``Batch.views``);
    ``teacher_logits`` are the ``--init`` model's on the clean view when ``distill`` asks for them, or
    the ``--teacher``'s on every view, in the batch's order."""
    loss = F.cross_entropy(logits["clean"], labels, label_smoothing=cfg.label_smoothing)
    if teacher_logits is not None and cfg.teacher:
        student_logits = torch.cat(list(logits.values()))
        loss = loss + cfg.distill * distilled(student_logits, teacher_logits, cfg.distill_temperature)
    elif teacher_logits is not None:
        loss = loss + cfg.distill * kept_answers(logits["clean"], teacher_logits)
    if "outliers" in logits:
        loss = loss + cfg.outlier_weight * distance_from_uniform(logits["outliers"])
    if "harsh" in logits:
        loss = loss + cfg.consistency * jensen_shannon(logits["clean"], logits["harsh"])
    return loss


def distance_from_uniform(logits: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy from the uniform distribution to softmax(logits), minus its minimum log C.

    Zero when the model spreads its answer evenly; large when it is confident in any class.
    """
    return (torch.logsumexp(logits, 1) - logits.mean(1)).mean() - math.log(logits.shape[1])


def kept_answers(logits: torch.Tensor, teacher_logits: torch.Tensor) -> torch.Tensor:
    """Mean KL divergence from the teacher's softmax answer to the model's: zero when they agree."""
    return F.kl_div(logits.log_softmax(1), teacher_logits.log_softmax(1), reduction="batchmean", log_target=True)


def distilled(logits: torch.Tensor, teacher_logits: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """Hinton's distillation term: the KL divergence between the answers softened by ``temperature``,
    times its square so that the gradients keep their size whatever the temperature."""
    return temperature**2 * kept_answers(logits / temperature, teacher_logits / temperature)


def jensen_shannon(logits_a: torch.Tensor, logits_b: torch.Tensor) -> torch.Tensor:
    """Mean Jensen-Shannon divergence between the softmax answers of two views of the same images.

    Zero when both views get the same distribution; bounded by log 2, so a hopeless view
    cannot dominate the loss the way a KL term could.
    """
    p, q = logits_a.softmax(1), logits_b.softmax(1)
    log_mixture = ((p + q) / 2).clamp_min(1e-7).log()
    return (F.kl_div(log_mixture, p, reduction="batchmean") + F.kl_div(log_mixture, q, reduction="batchmean")) / 2
