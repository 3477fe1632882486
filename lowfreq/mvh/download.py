"""Downloads of model-vs-human: the official stimulus archives and the human raw-data CSVs (with SHA-256).

Layout of a model-vs-human directory (``data_dir``)::

    data_dir/
      datasets/<name>/<category>/<file>.png          official release archives (edge, silhouette, cue-conflict)
      datasets/<name>/dnn/session-1/<file>.png       official release archives (parametric datasets, sketch, stylized)
      images/<name>/<category>/<file>.png            texture-vs-shape layout (as in $LOWFREQ_TEST_DATA/model-vs-human)
      raw-data/<name>/<name>_subject-XX_session_1.csv   human trials; model CSVs are written next to them

[`download_datasets`][lowfreq.mvh.download.download_datasets] fetches the official release archives (``v0.1``) into
``datasets/``; [`download_raw_data`][lowfreq.mvh.download.download_raw_data] fetches the human CSVs into ``raw-data/``
and checks their SHA-256; [`find_dataset_dir`][lowfreq.mvh.download.find_dataset_dir] finds a dataset's images in any of
the layouts above. Offline, every download fails at once with a message saying what to put where.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

from lowfreq.core.checks import check_choice
from lowfreq.core.download import download_file, extract_tar, file_sha256
from lowfreq.mvh.raw_data import BENCHMARK_DATASETS, IMAGE_DATASETS

__all__ = [
    "EXPECTED_IMAGE_COUNTS",
    "HUMAN_RAW_DATA_SHA256",
    "IMAGE_SUFFIXES",
    "RAW_DATA_COMMIT",
    "RAW_DATA_URL",
    "RELEASE_URL",
    "download_datasets",
    "download_raw_data",
    "find_dataset_dir",
]

log = logging.getLogger(__name__)

#: Official image archives of model-vs-human (``modelvshuman/utils.py``: ``dataset_base_url``), one per dataset.
#: No checksums are published for them; ``download_datasets`` checks the unpacked structure and image count.
RELEASE_URL = "https://github.com/bethgelab/model-vs-human/releases/download/v0.1/{name}.tar.gz"

#: Human raw data: the repository's ``raw-data/`` folder at a fixed commit (the one the test data were copied from).
RAW_DATA_COMMIT = "79ed7cd1d9ac3a114e71b6638f0a98bdd627316c"
RAW_DATA_URL = "https://raw.githubusercontent.com/bethgelab/model-vs-human/{commit}/raw-data/{path}"

#: SHA-256 of every human CSV at ``RAW_DATA_COMMIT`` (computed from byte-for-byte copies of those files).
HUMAN_RAW_DATA_SHA256: dict[str, str] = {
    "colour/colour_subject-01_session_1.csv": "412a6acabff27e364955e82a4a51c600feffba44ac782e20c4952b6b4aa1e2a5",
    "colour/colour_subject-02_session_1.csv": "ab317fd6e5dbfb91b3623a6230cdf34259f316c227dd11a986a798395a77e81d",
    "colour/colour_subject-03_session_1.csv": "24f909d219cc95af0c5b87a5a77be3d3b33d9bb9db127811fe981d515364605a",
    "colour/colour_subject-04_session_1.csv": "b6ff61a7d830683ec49202f4b8180b009ef1c2fda5a010b160329962cdb1379c",
    "contrast/contrast_subject-01_session_1.csv": "c96282337e7508864c6c54dbda25d726789b60c24f88468ddd2314c091114004",
    "contrast/contrast_subject-02_session_1.csv": "50ebd5b08f2e69c39cea4c50a17880f4e20494554c761a0e4c8072452f925fae",
    "contrast/contrast_subject-03_session_1.csv": "047c06fbbedfbbd8c9047d41da3c9e3c4b782c8c16fd6f190d8c01cec485b516",
    "contrast/contrast_subject-04_session_1.csv": "0e7cce18caedfe179a3a53a7cea57ca59b23046cefbe4351b11f129bd5970fa6",
    "cue-conflict/cue-conflict_subject-01_session_1.csv": "8e100c7aad0e4ab891cb16a1fea9768edc882f9e47369549d45aa765b0897b1a",
    "cue-conflict/cue-conflict_subject-02_session_1.csv": "e9988e3eee0d4f9500fdf626d043e8382e96032a3f791b0d4886807a46e632ad",
    "cue-conflict/cue-conflict_subject-03_session_1.csv": "d3907fee2e612e6cd13c316a069f2e5fd41b0a55218b79be9537e1276c507d88",
    "cue-conflict/cue-conflict_subject-04_session_1.csv": "1d7b093f1174229a68e3bfac2f68877b2747bac001ad4aadbff5d5f89a44630e",
    "cue-conflict/cue-conflict_subject-05_session_1.csv": "f7e69864b7a981f6daaf51d9fc9945b185020e482956b38f477bf8eec9a5fa86",
    "cue-conflict/cue-conflict_subject-06_session_1.csv": "b63d7b4c52374a583f5e342aab46de5c445ef314501abc4b36736531c4d5f532",
    "cue-conflict/cue-conflict_subject-07_session_1.csv": "75959b12b8ccb9a265e20cb2beef05ac0dbf4052746742dd7e88818e69e2774c",
    "cue-conflict/cue-conflict_subject-08_session_1.csv": "b50f6956933c0a20eaf19e846c1fb5896068550da4597e8a7fc30aaf557ea02f",
    "cue-conflict/cue-conflict_subject-09_session_1.csv": "c94aba7fb9bf6887ec2fd0f554b145a6ed66c295b26a5c19594e1c0174253878",
    "cue-conflict/cue-conflict_subject-10_session_1.csv": "aa7b4f124bf605fd614b704d7556bb1a8088364b3113f9f918257b5cd3925f1b",
    "edge/edge_subject-01_session_1.csv": "e4b737c8fd3849a55fa9c037de9ba59d29a4cbc291e6ec06347c25758feac0f2",
    "edge/edge_subject-02_session_1.csv": "d4726cbc9ec15020cad3942fd55d6bbb946cb607164ca1661356d579158b00b0",
    "edge/edge_subject-03_session_1.csv": "6b2e8a93ceb81d676ebe13a8b8ea724794f08d7d0d536c6f8b0ca360abb2f524",
    "edge/edge_subject-04_session_1.csv": "76d67ec52994f6c41eb5ae443fb2b4234efb29d12245f23cbd235a4e9f9c52e7",
    "edge/edge_subject-05_session_1.csv": "e2ae02950ce27b66bbf78b95bf8140034e4d85d9a815bab29bdb8b9d4491b976",
    "edge/edge_subject-06_session_1.csv": "09070d0a650b99dd27de93db75a3b333e9a317318679aa65ae759219e1442332",
    "edge/edge_subject-07_session_1.csv": "7d3c41afd852beca3e6c5899bfb0ea309ec684deb5132cf7802a818587e8298f",
    "edge/edge_subject-08_session_1.csv": "f54aa000f906c3e377da838e8cb6a2e47f6370042baa15a282b12eef4b329755",
    "edge/edge_subject-09_session_1.csv": "5815bf679529a4d31d0c5af11d7f60aff15d55261aaa8bebf86f7d0e4fb1709e",
    "edge/edge_subject-10_session_1.csv": "d3d52d6ae95158f74da7f630096501c7417156b2fb474f9716bf51fcb5a5a0f8",
    "eidolonI/eidolonI_subject-01_session_1.csv": "137da50e34f750eddef25496e63792fbff684d219bde615c83268e80355cd420",
    "eidolonI/eidolonI_subject-02_session_1.csv": "7941b063aac17705e22040abbb38dc1fdb48410fed5439c6841c6f66eeea50a4",
    "eidolonI/eidolonI_subject-03_session_1.csv": "f79e93ac17dda6d6a58cd79b8b2bc25d86cda24cda713421ffc2cd084103a09c",
    "eidolonI/eidolonI_subject-04_session_1.csv": "b790c4917f6be12f7c6347d5b5a8b2c6a0428784d564c22a02556f6285b0a348",
    "eidolonII/eidolonII_subject-01_session_1.csv": "7b9d62af4d32593e5eac8fca48cc97ffecc2217623ec5559520bc5c8530c9732",
    "eidolonII/eidolonII_subject-02_session_1.csv": "ffd01f0bc6d570646262c622f8d7ebfb57e224ebdde73709903bc7e9e4db0c3e",
    "eidolonII/eidolonII_subject-03_session_1.csv": "dbd3e8b6f5d888664b600d59d687a8489bec183cc96bd48bcbe21b2093162b18",
    "eidolonII/eidolonII_subject-04_session_1.csv": "65d45566e2c2e5b3d437df8e408396f30dd53ef6cca819eda23ac8a0b5c7104c",
    "eidolonIII/eidolonIII_subject-01_session_1.csv": "16f09698f5b7420083bb07930ed4286046c68c36fd25d999fb8490169e7226fb",
    "eidolonIII/eidolonIII_subject-02_session_1.csv": "63b6acaca7f0aa9b4625f27575b2b86eaaf8269fc420883e966122cba6d16c7d",
    "eidolonIII/eidolonIII_subject-03_session_1.csv": "fe9acdde435e3f2911beda40b40468c0958bc43182620e4f005eaf64562e23a0",
    "eidolonIII/eidolonIII_subject-04_session_1.csv": "2c3f0c6299bf9e19000c9ca442b24205cab362f304a4c7dde9eda1631f81c4b5",
    "false-colour/false-colour_subject-01_session_1.csv": "b2d2b28eb6de16c8c63658ab0568acc00a11cf966ba09eaa5b880f37cfd28640",
    "false-colour/false-colour_subject-02_session_1.csv": "cab67079985dd25d2b7ef73309f81995e353536c2321a1d2ba590e808b1d6670",
    "false-colour/false-colour_subject-03_session_1.csv": "62c1cf10a93b6a59a3759fa5f492266a354d2083950ed956493f8a4055f6e733",
    "false-colour/false-colour_subject-04_session_1.csv": "bfb94755ec916b5f57620d979ab207458c902ae8d913254b69c0677a925c326f",
    "high-pass/high-pass_subject-01_session_1.csv": "a62ded908c40953029a45f8789bf3d657b181b759dc5c0df12df4e65c9999657",
    "high-pass/high-pass_subject-02_session_1.csv": "f7024ba922e00c277fa5c6f2d7b2e350355db54a8e85d049a6686bac58e5f83a",
    "high-pass/high-pass_subject-03_session_1.csv": "fc43a69bf7ab61a853c7400d9b7021e0f33a0b89e8c4f448605f3868d58be795",
    "high-pass/high-pass_subject-04_session_1.csv": "1658dbd152b1dbf54f68109c78713789e2b004eab12481aa5e1a9b89f72b1493",
    "low-pass/low-pass_subject-01_session_1.csv": "e002a237459cd3f45745b6f1545c480c71d242ff633c482b7c36d462490b79e3",
    "low-pass/low-pass_subject-02_session_1.csv": "e088436e43d2b771210c9d5e651022aad7a2fb83caaa9a2536ba3aa3a687c892",
    "low-pass/low-pass_subject-03_session_1.csv": "c3bf62fc463a7e13c8816a165724ee97984f446c33564c19243361298ee5017f",
    "low-pass/low-pass_subject-04_session_1.csv": "8e181846838f7842ab874306368a19e6a059019a48510911b42bfb8ffa692f93",
    "phase-scrambling/phase-scrambling_subject-01_session_1.csv": "3dde657fd789aaf59151b2372f42a43f46811341f14775c56e450cf25fa4270f",
    "phase-scrambling/phase-scrambling_subject-02_session_1.csv": "1bd56a3a965d97d64bef12730d57d1c211c2166247348e62f6a8f5406fe2b39a",
    "phase-scrambling/phase-scrambling_subject-03_session_1.csv": "6ef114cc3c2ec4110e7f12b2d02b696d325ba2ea1e4276f232f839b7aae74876",
    "phase-scrambling/phase-scrambling_subject-04_session_1.csv": "3d4c62fe46c8bb5561f50c185a84ddeaa0f4732f7e12cf5862d4d046217f357a",
    "power-equalisation/power-equalisation_subject-01_session_1.csv": "69d27b58f796586e10358702bbd5b85b5926780f4007cf63885ecdd622289a29",
    "power-equalisation/power-equalisation_subject-02_session_1.csv": "8582a6bb4b4c5d2ca03080a9c7c8222ec010cd814622705a85d411a25d411e65",
    "power-equalisation/power-equalisation_subject-03_session_1.csv": "48843311fe966cd246c0eedd743103dee0e213d58b809710c56b0f37c12f70d2",
    "power-equalisation/power-equalisation_subject-04_session_1.csv": "d8acfc176ab1c2491bd2c6857a7caa1686e6c6794997e0315fcceb9fdca427ec",
    "rotation/rotation_subject-01_session_1.csv": "ece4d51b9d399ad9a3419d3b4925986f1ff263b4a3f1c15f67c8a8f9f0b8ae89",
    "rotation/rotation_subject-02_session_1.csv": "f6a2f96f4a8b0d3eda00d74f7e096bce149b041aabbe9d8fc267e42eb14b2f8a",
    "rotation/rotation_subject-03_session_1.csv": "ca31c5d061b32a4902ca9d75f5d8850aa0a9c39102ede0e6ddc429f070a780e0",
    "rotation/rotation_subject-04_session_1.csv": "ac3e4efb10346e5d6963c9152f407be4fc4f7cccfab36a47bde0239711c5522e",
    "silhouette/silhouette_subject-01_session_1.csv": "34e1a7352b9494d6030e75ee356df8b01e980c51effd8088171b33e599359901",
    "silhouette/silhouette_subject-02_session_1.csv": "a5075b5adf4452ebce0d198229f96028e965cb9f3539f0bc08045e5b6d93d2f9",
    "silhouette/silhouette_subject-03_session_1.csv": "94087eb34ac2f7f3ba04b753667c0a8be6d9e191a90728f47788f444593ef932",
    "silhouette/silhouette_subject-04_session_1.csv": "28befd9b2f3acbe2aeb1216c4eea039ec5fd177db472d0cb49dc370e96fce719",
    "silhouette/silhouette_subject-05_session_1.csv": "230304aa89ce61d7c888b74a73b4601ec94fc42e00b5dd56cd58b32f11da12a0",
    "silhouette/silhouette_subject-06_session_1.csv": "31480745aa878a6e53d75b61794d58a1501a79b6d2f6679d3449b8ec74a5bc6a",
    "silhouette/silhouette_subject-07_session_1.csv": "598fcce05f3ba19a943a5c99da068bc2492e287849ef5331f3e741b531a3ae64",
    "silhouette/silhouette_subject-08_session_1.csv": "da80bc431330e8af14287ea7b1d19caffeaae8283a41935d53da038efb642fd5",
    "silhouette/silhouette_subject-09_session_1.csv": "a35f3ba5fd78990068c5fb70c4ba03cd325128a3fea8826c47df43dfdbd40732",
    "silhouette/silhouette_subject-10_session_1.csv": "9fd39d41e6396ba0a5b6aaa2a6ac8c9ce351da03cf03e64cbfbb690e3e28196f",
    "sketch/sketch_subject-01_session_1.csv": "450b7a89a859027a821dcea15f6bcbce106d9d310315802141262f4f795e23d4",
    "sketch/sketch_subject-02_session_1.csv": "544b5e68aeff0788ea503524327adcfa872a84b65095fa8d765570336df966e9",
    "sketch/sketch_subject-03_session_1.csv": "6e81d7a25f6ef4785a5119c9503c1d31b9220c782ddea26f9abe78401eff0a1f",
    "sketch/sketch_subject-04_session_1.csv": "5ef16be4922c31fe87c7569a25747714fdfcca409c9e81001e651717b1a01971",
    "sketch/sketch_subject-05_session_1.csv": "0c06b22d24ed98c3858a8f639db9de1e5d4b4047a71840b82c94e27fbb2781c5",
    "sketch/sketch_subject-06_session_1.csv": "acfcc11f1fd64f81ec1ecd4c80db6fc6ea3c9ce4619ed1e0f9c8daa2028d2cc0",
    "sketch/sketch_subject-07_session_1.csv": "e37aa988e79780653cef9ea01e09d1eb7e5aeb87aea57cb1f4848676847d1f14",
    "stylized/stylized_subject-01_session_1.csv": "238aa3b1d1a701754af25a9099dc8f6d9b789408a0e750443158a5214e6679fa",
    "stylized/stylized_subject-02_session_1.csv": "e6c1404658d3738cefb2ef6875087b8a8566982d3fdf9f94b27d8e36c1800a10",
    "stylized/stylized_subject-03_session_1.csv": "eb8ef0db79aa39f284568b0d390130ee8ef65b4fdada3592c9b9a79b459da8be",
    "stylized/stylized_subject-04_session_1.csv": "1b2e68932b11db8110bd1342dd09ff810f293a6d9795ba126d40f830dab35853",
    "stylized/stylized_subject-05_session_1.csv": "ec8188ead1c5d14e45564fc5906efacfd03d4b55fa2f3357c289a155316dcb63",
    "uniform-noise/uniform-noise_subject-01_session_1.csv": "6e2d14c88338b9fd08a2cfebd396ab16aa0ea02b5a945698e91f1a44e68cdc5f",
    "uniform-noise/uniform-noise_subject-02_session_1.csv": "4e922faea17187b75a256c7b8b9c5952a74004002eede89b00ba831c3a85e4db",
    "uniform-noise/uniform-noise_subject-03_session_1.csv": "578924d2129646686eef1dd65e6d10d413667b5987c937517ed838872c5c15aa",
    "uniform-noise/uniform-noise_subject-04_session_1.csv": "b32138da396476fc5228fa2abb3c2c78529224e3cebcbfa38fd6c5c4ba92ecb5",
}

#: Images per dataset (= trials per human observer, since every observer saw every stimulus once).
EXPECTED_IMAGE_COUNTS: dict[str, int] = {
    "edge": 160,
    "silhouette": 160,
    "cue-conflict": 1280,
    "colour": 1280,
    "contrast": 1280,
    "high-pass": 1280,
    "low-pass": 1280,
    "phase-scrambling": 1120,
    "power-equalisation": 1120,
    "false-colour": 1120,
    "rotation": 1280,
    "eidolonI": 1280,
    "eidolonII": 1280,
    "eidolonIII": 1280,
    "uniform-noise": 1280,
    "sketch": 800,
    "stylized": 800,
}

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".JPEG", ".PNG", ".JPG")



def find_dataset_dir(data_dir: str | Path, name: str) -> Path:
    """Folder with the images of dataset ``name``: ``datasets/<name>``, ``images/<name>`` or ``<name>``.

    Raises:
        FileNotFoundError: naming the places searched and how to download.
    """
    check_choice("dataset", name, BENCHMARK_DATASETS)
    root = Path(data_dir)
    candidates = [root / "datasets" / name, root / "images" / name, root / name]
    for c in candidates:
        if c.is_dir():
            return c
    raise FileNotFoundError(
        f"no images for model-vs-human dataset {name!r}: looked in {[str(c) for c in candidates]}. "
        f"Download them with `lowfreq download mvh --data_dir {root} --datasets [{name}]` or "
        f"lowfreq.mvh.download_datasets({str(root)!r}, [{name!r}]) "
        f"(or ModelVsHumanDataModule(download=True)); archive: {RELEASE_URL.format(name=name)}"
    )


def _fetch(url: str, dest: Path, progress: bool, sha256: str | None = None, probe_first: bool = True) -> None:
    """Download ``url`` to ``dest`` (checking ``sha256`` when given); offline, a clear error at once."""
    download_file(url, dest, sha256=sha256, progress=progress, probe_first=probe_first,
                  hint="or run `lowfreq download mvh` on a machine with internet access and copy the folder")


def _count_images(folder: Path) -> int:
    return sum(1 for p in folder.rglob("*") if p.suffix in IMAGE_SUFFIXES)


def download_datasets(
    data_dir: str | Path,
    datasets: Iterable[str] = IMAGE_DATASETS,
    *,
    force: bool = False,
    progress: bool = True,
) -> list[Path]:
    """Download and unpack the official model-vs-human image archives into ``<data_dir>/datasets/<name>``.

    Datasets already present (in any layout [`find_dataset_dir`][lowfreq.mvh.download.find_dataset_dir] accepts) are
    skipped unless ``force``. There are no published checksums for these archives, so the unpacked folder is checked
    instead: it must hold ``EXPECTED_IMAGE_COUNTS`` images (the number of trials per human observer).

    Returns:
        The dataset folders.
    """
    root = Path(data_dir)
    out = []
    for name in datasets:
        check_choice("datasets", name, BENCHMARK_DATASETS)
        target = root / "datasets" / name
        if not force:
            try:
                out.append(find_dataset_dir(root, name))
                continue
            except FileNotFoundError:
                pass
        archive = root / "datasets" / f"{name}.tar.gz"
        _fetch(RELEASE_URL.format(name=name), archive, progress)
        with tempfile.TemporaryDirectory(dir=root / "datasets") as tmp:
            extract_tar(archive, tmp)  # filtered: these archives have no published checksum
            unpacked = Path(tmp) / name
            if not unpacked.is_dir():
                raise RuntimeError(
                    f"{archive} does not contain the folder {name}/ (has {sorted(p.name for p in Path(tmp).iterdir())})"
                )
            n = _count_images(unpacked)
            if n != EXPECTED_IMAGE_COUNTS[name]:
                raise RuntimeError(
                    f"{archive} holds {n} images for {name!r}, expected {EXPECTED_IMAGE_COUNTS[name]}"
                )
            if target.exists():
                shutil.rmtree(target)
            shutil.move(str(unpacked), target)
        archive.unlink()
        log.info("model-vs-human dataset %s -> %s", name, target)
        out.append(target)
    return out


def download_raw_data(
    data_dir: str | Path,
    datasets: Iterable[str] = BENCHMARK_DATASETS,
    *,
    force: bool = False,
    progress: bool = False,
) -> list[Path]:
    """Download the human raw-data CSVs into ``<data_dir>/raw-data/<dataset>/`` and verify their SHA-256.

    Files already present with the right checksum are skipped (unless ``force``); a present file with a wrong
    checksum raises.

    Returns:
        Paths of the human CSVs of ``datasets``.
    """
    root = Path(data_dir) / "raw-data"
    wanted = [str(d) for d in datasets]
    for name in wanted:
        check_choice("datasets", name, BENCHMARK_DATASETS)
    out = []
    probed = False  # one reachability probe for all the CSVs (same server)
    for rel, digest in HUMAN_RAW_DATA_SHA256.items():
        if rel.split("/")[0] not in wanted:
            continue
        dest = root / rel
        if force or not dest.exists():
            url = RAW_DATA_URL.format(commit=RAW_DATA_COMMIT, path=rel)
            _fetch(url, dest, progress, sha256=digest, probe_first=not probed)
            probed = True
        got = file_sha256(dest)
        if got != digest:
            raise RuntimeError(f"checksum mismatch for {dest}: sha256 {got}, expected {digest}")
        out.append(dest)
    return out
