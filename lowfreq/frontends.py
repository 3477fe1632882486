"""Front-ends placed before a backbone: (B, C, H, W) images in [0, 1] -> same shape.

Every front-end is differentiable (attacks reach the input), keeps its fixed tensors in buffers (derived ones
non-persistent, fitted ones persistent so checkpoints carry them) and runs its numerics in float32 even under
autocast. [`FourierMask`][lowfreq.frontends.FourierMask] has a trainable parameter;
[`PCAProjection`][lowfreq.frontends.PCAProjection] is fitted before training.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from typing import Literal, cast

import torch
from torch import Tensor, nn

from lowfreq.core.checks import check_choice, check_image, check_positive_int, check_range
from lowfreq.core.spec import RecordsInitArgs
from lowfreq.filters import (
    MAX_SIGMA,
    Padding,
    PCAMethod,
    _down_up_resize,
    _pca_project,
    check_padding,
    check_pca_method,
    gaussian_kernel1d,
    pca_fit,
    separable_filter,
)
from lowfreq.spectral import _ideal_highpass, _ideal_lowpass

__all__ = ["DownUpResize", "FourierMask", "FrontEnd", "GaussianBlur", "IdealFilter", "Identity", "PCAProjection"]


class FrontEnd(RecordsInitArgs, nn.Module):
    """Base class: a map from (B, C, H, W) images in [0, 1] to images of the same shape.

    Subclasses record their ``__init__`` arguments (``init_args``), so checkpoints of models built in Python
    rebuild them from plain data.

    How to add a front-end: subclass ``FrontEnd``, take plain-data ``__init__`` arguments (numbers, strings,
    lists), implement [`forward`][lowfreq.frontends.FrontEnd.forward] (float32 numerics under autocast, no host reads of
    tensor values: it runs in every training step), keep fixed tensors in buffers and learned ones in parameters.
    Override only the hooks it needs; ``lowfreq.training.FrontEndClassifier`` calls them without knowing the class:

    - [`penalty`][lowfreq.frontends.FrontEnd.penalty]: a scalar added to the training loss, weighted by the model's
      ``lambda_l1``.
    - [`after_optimizer_step`][lowfreq.frontends.FrontEnd.after_optimizer_step]: runs after every optimiser step (e.g. a
      projection onto constraints).
    - [`requires_fit`][lowfreq.frontends.FrontEnd.requires_fit] and [`fit`][lowfreq.frontends.FrontEnd.fit]: a front-end
      fitted on data before training. When ``requires_fit`` is True at the start of ``Trainer.fit``,
      ``lowfreq.training.fitting.FrontEndFitting`` fits it on the datamodule's un-augmented training images on
      rank 0, broadcasts its state dict (persistent buffers and parameters) and loads it on every rank with
      ``load_state_dict``. Store fitted tensors in persistent buffers, so checkpoints carry them and ``requires_fit`` is
      False after ``load_state_dict``.
    """

    def forward(self, x: Tensor) -> Tensor:  # pragma: no cover - abstract
        """(B, C, H, W) images in [0, 1] -> filtered images of the same shape and dtype."""
        raise NotImplementedError

    def penalty(self) -> Tensor | None:
        """Scalar regularisation term of the parameters for the training loss, or None (default)."""
        return None

    def after_optimizer_step(self) -> None:
        """Called after every optimiser step of training; does nothing by default."""

    @property
    def requires_fit(self) -> bool:
        """Whether [`fit`][lowfreq.frontends.FrontEnd.fit] must run before training (False by default)."""
        return False

    def fit(self, batches: Iterable[Tensor]) -> FrontEnd:
        """Fit the front-end on un-augmented images; nothing to fit by default.

        Args:
            batches: (B, C, H, W) float tensors in [0, 1] on the model's device. The iterable can be iterated
                again and yields the same batches in the same order every time (multi-pass fits).

        Returns:
            The front-end itself.
        """
        return self


class Identity(FrontEnd):
    """No filtering: the baseline."""

    def forward(self, x: Tensor) -> Tensor:
        """(B, C, H, W) images -> filtered images of the same shape and dtype."""
        return x


class GaussianBlur(FrontEnd):
    """Fixed Gaussian low-pass in pixel space (P001's blur layer; P000's test-time blur).

    Args:
        sigma: standard deviation in pixels, in (0, 64]. Transfer ~ exp(-2 pi^2 sigma^2 |f|^2); amplitude halves
            at ~0.187 / sigma cycles/pixel.
        truncate: kernel half-width in sigmas: size 2 * ceil(truncate * sigma) + 1 (blur-net used 2.5).
        padding: "circular" (default, as blur-net: the blur is then an exact product in the DFT domain, see
            ``lowfreq.spectral.kernel_transfer``), "reflect" (torchvision) or "zeros".
    """

    kernel: Tensor

    def __init__(self, sigma: float = 1.5, truncate: float = 3.0, padding: Padding = "circular") -> None:
        super().__init__()
        check_range("sigma", sigma, 0.0, MAX_SIGMA, low_open=True)
        check_padding(padding)
        self.sigma, self.truncate, self.padding = sigma, truncate, padding
        self.register_buffer("kernel", gaussian_kernel1d(sigma, truncate), persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        """(B, C, H, W) images -> filtered images of the same shape and dtype."""
        check_image(x, values=False)
        return separable_filter(x, self.kernel, self.padding)

    def extra_repr(self) -> str:
        """Constructor arguments shown by ``repr``."""
        return f"sigma={self.sigma}, truncate={self.truncate}, padding={self.padding!r}, size={self.kernel.numel()}"


class DownUpResize(FrontEnd):
    """Bicubic down-sampling to ``size`` x ``size`` and back up, clamped to [0, 1] (P000).

    Args:
        size: intermediate resolution in pixels (P000 headline: 64 for 224 x 224 inputs).
        antialias: anti-alias the down-step (PIL-like).
    """

    def __init__(self, size: int = 64, antialias: bool = True) -> None:
        super().__init__()
        check_positive_int("size", size)
        self.size, self.antialias = size, antialias

    def forward(self, x: Tensor) -> Tensor:
        """(B, C, H, W) images -> filtered images of the same shape and dtype."""
        check_image(x, values=False)  # dtype and shape only: no device synchronisation in a training step
        return _down_up_resize(x, self.size, antialias=self.antialias)

    def extra_repr(self) -> str:
        """Constructor arguments shown by ``repr``."""
        return f"size={self.size}, antialias={self.antialias}"


class PCAProjection(FrontEnd):
    """Projection onto the top-K principal subspace of the training images (P001, K = 512 on CIFAR-10).

    Call [`fit`][lowfreq.frontends.PCAProjection.fit] before use; until then
    [`requires_fit`][lowfreq.frontends.PCAProjection.requires_fit] is True, and ``FrontEndClassifier`` fits it at the
    start of ``Trainer.fit`` on the un-augmented training set. The fitted mean and components are persistent buffers, so
    checkpoints carry them.

    Args:
        num_components: K, 1 <= K <= C * H * W.
        image_shape: (C, H, W) of the images, fixing D = C * H * W.
        mode: "linear" x -> U U^T x (P001 Eq. 3, default) or "affine" x -> mu + U U^T (x - mu).
        method: PCA solver for [`fit`][lowfreq.frontends.PCAProjection.fit] (see ``lowfreq.filters.pca_fit``).
        max_images: [`fit`][lowfreq.frontends.PCAProjection.fit] uses only the first ``max_images`` images of its data
            (None = all).
    """

    mean: Tensor
    components: Tensor
    explained_variance: Tensor
    fitted: Tensor

    def __init__(
        self,
        num_components: int = 512,
        image_shape: tuple[int, int, int] = (3, 32, 32),
        mode: Literal["linear", "affine"] = "linear",
        method: PCAMethod = "auto",
        max_images: int | None = None,
    ) -> None:
        super().__init__()
        if len(image_shape) != 3 or not all(isinstance(n, int) and n >= 1 for n in image_shape):
            raise ValueError(f"image_shape must be three ints >= 1, (C, H, W), got {image_shape!r}")
        dim = math.prod(image_shape)
        check_positive_int("num_components", num_components)
        if num_components > dim:
            raise ValueError(f"num_components must be in [1, C*H*W = {dim}], got {num_components}")
        check_choice("mode", mode, ("linear", "affine"))
        check_pca_method(method)
        if max_images is not None:
            check_positive_int("max_images", max_images)
        self.num_components, self.image_shape, self.mode, self.method = num_components, tuple(image_shape), mode, method
        self.max_images = max_images
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("components", torch.zeros(num_components, dim))
        self.register_buffer("explained_variance", torch.zeros(num_components))
        self.register_buffer("fitted", torch.tensor(False))
        self._fitted = False  # host copy of ``fitted``: forward reads it without a device synchronisation
        self.register_load_state_dict_post_hook(_read_fitted_flag)

    @property
    def is_fitted(self) -> bool:
        """Whether [`fit`][lowfreq.frontends.PCAProjection.fit] or ``load_state_dict`` has set the basis."""
        return self._fitted

    @property
    def requires_fit(self) -> bool:
        """True until the basis is fitted (or restored from a checkpoint)."""
        return not self.is_fitted

    @torch.no_grad()
    def fit(self, data: Tensor | Iterable, *, progress: bool = False) -> PCAProjection:
        """Fit the basis on the first ``max_images`` images (all if None) of the data, without augmentation.

        Args:
            data: (N, C, H, W) tensor in [0, 1], or an iterable of such batches or of (x, y) pairs. An
                iterable must yield the same batches on every pass for the "randomized" method (several
                passes).
            progress: show a progress bar over batches.

        Returns:
            The fitted front-end itself.
        """
        if isinstance(data, Tensor):
            _check_image_shape(data, self.image_shape)  # before the (long) fit, not after it
            data = data[: self.max_images]
        else:
            if self.max_images is not None:
                data = _FirstImages(data, self.max_images)
            data = _ShapeChecked(data, self.image_shape)  # the first batch is checked before any work on it
        result = pca_fit(data, self.num_components, method=self.method, center=True, progress=progress)
        if result.components.shape[1] != self.mean.numel():
            raise ValueError(
                f"data must have images of shape image_shape={self.image_shape} "
                f"(D = {self.mean.numel()}), got D = {result.components.shape[1]}"
            )
        self.mean.copy_(result.mean)
        self.components.copy_(result.components)
        self.explained_variance.copy_(result.explained_variance)
        self.fitted.fill_(True)
        self._fitted = True
        return self

    def forward(self, x: Tensor) -> Tensor:
        """(B, C, H, W) images -> filtered images of the same shape and dtype."""
        check_image(x, values=False)
        if not self.is_fitted:
            raise RuntimeError("PCAProjection is not fitted: call .fit(train_images) or load a fitted checkpoint")
        return _pca_project(x, self.components, self.mean if self.mode == "affine" else None)

    def extra_repr(self) -> str:
        """Constructor arguments shown by ``repr``."""
        return f"num_components={self.num_components}, image_shape={self.image_shape}, mode={self.mode!r}"


def _read_fitted_flag(module: nn.Module, incompatible_keys: object) -> None:
    """``load_state_dict`` post-hook of ``PCAProjection``: the loaded ``fitted`` buffer, on the host."""
    if isinstance(module, PCAProjection):
        module._fitted = bool(module.fitted)


def _check_image_shape(x: Tensor, image_shape: tuple[int, ...]) -> None:
    """Raise unless the (N, C, H, W) batch ``x`` holds images of shape ``image_shape``."""
    if x.ndim != 4 or tuple(x.shape[1:]) != tuple(image_shape):
        raise ValueError(
            f"image_shape={tuple(image_shape)} of PCAProjection does not match the data: images of shape "
            f"{tuple(x.shape[1:]) if x.ndim == 4 else tuple(x.shape)}; set image_shape to the data's (C, H, W) "
            "(--model.init_args.frontend.init_args.image_shape=[C, H, W])"
        )


class _ShapeChecked:
    """Re-iterable view of batches (or (x, y) pairs) that checks every image batch against ``image_shape``."""

    def __init__(self, batches: Iterable, image_shape: tuple[int, ...]) -> None:
        self.batches, self.image_shape = batches, image_shape

    def __iter__(self) -> Iterator:
        for batch in self.batches:
            x = batch[0] if isinstance(batch, (list, tuple)) else batch
            if isinstance(x, Tensor):  # anything else: pca_fit names what is wrong with it
                _check_image_shape(x, self.image_shape)
            yield batch


class _FirstImages:
    """Re-iterable view of the first ``limit`` images of an iterable of batches or (x, y) pairs."""

    def __init__(self, batches: Iterable, limit: int) -> None:
        self.batches, self.limit = batches, limit

    def __iter__(self) -> Iterator[Tensor]:
        remaining = self.limit
        for batch in self.batches:
            x = batch[0] if isinstance(batch, (list, tuple)) else batch
            if not isinstance(x, Tensor):
                yield batch  # pca_fit names what is wrong with it
                return
            yield x[:remaining]
            remaining -= x.shape[0]
            if remaining <= 0:
                return


class IdealFilter(FrontEnd):
    """Ideal radial low- or high-pass: keep |f| <= cutoff ("low") or the rest ("high"). Output not clipped.

    Args:
        cutoff: radius in cycles/pixel, in [0, sqrt(2)/2] (0.5 = Nyquist along an axis).
        mode: "low" or "high".
        inclusive: whether |f| == cutoff belongs to the low band (P003's code: exclusive).
    """

    def __init__(self, cutoff: float = 0.25, mode: Literal["low", "high"] = "low", inclusive: bool = True) -> None:
        super().__init__()
        check_range("cutoff", cutoff, 0.0, math.sqrt(2) / 2)
        check_choice("mode", mode, ("low", "high"))
        self.cutoff, self.mode, self.inclusive = cutoff, mode, inclusive

    def forward(self, x: Tensor) -> Tensor:
        """(B, C, H, W) images -> filtered images of the same shape and dtype."""
        check_image(x, values=False)  # dtype and shape only: no device synchronisation in a training step
        ideal = _ideal_lowpass if self.mode == "low" else _ideal_highpass
        return ideal(x, self.cutoff, self.inclusive)

    def extra_repr(self) -> str:
        """Constructor arguments shown by ``repr``."""
        return f"cutoff={self.cutoff}, mode={self.mode!r}, inclusive={self.inclusive}"


class FourierMask(FrontEnd):
    """Learnable multiplicative mask on the image spectrum (P004): x -> irfft2(M * rfft2(x)).

    The mask lives on the ``rfft2`` half-plane (H, W // 2 + 1), so the output is real by construction and the
    effective full-plane mask is Hermitian-symmetric (P004's real-part extraction of a full mask is the same as
    using its symmetrised version). Values are kept in [0, 1]: the forward pass clamps, and
    [`after_optimizer_step`][lowfreq.frontends.FourierMask.after_optimizer_step] clamps the parameter in place.
    [`penalty`][lowfreq.frontends.FourierMask.penalty] is the mask's L1 term.

    Args:
        image_size: (H, W) of the inputs.
        per_channel: one mask per channel (C = ``channels``) instead of one shared mask (P004: shared).
        channels: number of channels when ``per_channel``.
        init: initial value of every entry, in [0, 1] (P004: 1, the identity filter).
    """

    column_weight: Tensor

    def __init__(
        self, image_size: tuple[int, int] = (32, 32), per_channel: bool = False, channels: int = 3, init: float = 1.0
    ) -> None:
        super().__init__()
        height, width = image_size
        check_positive_int("image_size[0]", height)
        check_positive_int("image_size[1]", width)
        check_range("init", init, 0.0, 1.0)
        check_positive_int("channels", channels)
        self.image_size, self.per_channel = (height, width), per_channel
        self.mask = nn.Parameter(torch.full((channels if per_channel else 1, height, width // 2 + 1), float(init)))
        weight = torch.full((width // 2 + 1,), 2.0)
        weight[0] = 1.0
        if width % 2 == 0:
            weight[-1] = 1.0
        self.register_buffer("column_weight", weight / width, persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        """(B, C, H, W) images -> filtered images of the same shape and dtype."""
        check_image(x, values=False)
        if self.per_channel and x.shape[1] != self.mask.shape[0]:
            raise ValueError(
                f"x must have {self.mask.shape[0]} channels (per_channel=True, one mask per channel), "
                f"got shape {tuple(x.shape)}"
            )
        if tuple(x.shape[-2:]) != self.image_size:
            raise ValueError(f"x must have spatial size image_size={self.image_size}, got {tuple(x.shape[-2:])}")
        with torch.autocast(device_type=x.device.type, enabled=False):
            xf = x.double() if x.dtype == torch.float64 else x.float()
            mask = self.mask.clamp(0.0, 1.0).to(xf.dtype)
            return cast("Tensor", torch.fft.irfft2(torch.fft.rfft2(xf) * mask, s=self.image_size).to(x.dtype))

    def penalty(self) -> Tensor:
        """L1 term: mean |M| over the full (H, W) Hermitian mask.

        P004's lambda / ||M_0||_1 * ||M||_1 with the ones init.

        Returns:
            Scalar tensor, differentiable in the mask.
        """
        return (self.mask.abs() * self.column_weight).sum(dim=-1).mean()

    @torch.no_grad()
    def after_optimizer_step(self) -> None:
        """Clamp the mask to [0, 1] in place (the projection of a projected gradient step)."""
        self.mask.clamp_(0.0, 1.0)

    def full_mask(self) -> Tensor:
        """(C or 1, H, W) effective mask on the full unshifted plane, for plots.

        It is Hermitian-symmetric: columns W - c mirror columns c, and on the self-paired columns (DC and,
        for even W, Nyquist) ``irfft2`` keeps only the real part, i.e. applies (M(r) + M(-r)) / 2.
        """
        height, width = self.image_size
        half = self.mask.detach().clamp(0.0, 1.0)
        rows = (-torch.arange(height, device=half.device)) % height
        self_paired = [0] + ([width // 2] if width % 2 == 0 else [])
        half = half.clone()
        half[..., self_paired] = (half[..., self_paired] + half[:, rows][..., self_paired]) / 2
        mirrored = half[:, rows].flip(-1)[..., (width + 1) % 2 : -1]  # columns W-1 .. W//2+1
        return torch.cat([half, mirrored], dim=-1)

    def extra_repr(self) -> str:
        """Constructor arguments shown by ``repr``."""
        return f"image_size={self.image_size}, per_channel={self.per_channel}"
