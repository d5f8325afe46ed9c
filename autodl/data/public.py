"""The 24 public datasets of the 2019 AutoDL challenges, and where they are served.

Each dataset is two zips, ``<Name>.data.zip`` (the ``<name>.data`` folder) and
``<Name>.solution.zip`` (``<name>.solution``), from the challenge's server (the URLs
of the 2019 starting kit) or from a mirror that serves both under one base URL
(``<mirror>/<Name>.data.zip``).

Sizes and checksums: the 2019 kit published neither, and neither can be known here
without downloading, so ``size`` and ``sha256`` are None for all 24. An organization
that hosts a mirror can publish them; a known one is enforced. Where none is known,
integrity rests on what can be checked: the byte count the server announces
(Content-Length / Content-Range) must be the byte count received, every member's
CRC-32 in the zip must match, and the unpacked folder must be an AutoDL task with its
solution; any mismatch fails closed (:mod:`autodl.data.download`).

>>> [d.name for d in PUBLIC_DATASETS][:6]
['Munster', 'City', 'Chucky', 'Pedro', 'Decal', 'Hammer']
>>> len(PUBLIC_DATASETS), dataset("adult").domain
(24, 'tabular')
"""

from __future__ import annotations

from dataclasses import dataclass

_BASE = "https://autodl.lri.fr/my/datasets/download/"


@dataclass(frozen=True)
class FilePart:
    """One zip of a dataset: its file name, URL, and what is known of its bytes."""

    file_name: str
    url: str
    size: int | None = None
    sha256: str | None = None


@dataclass(frozen=True)
class PublicDataset:
    name: str
    domain: str
    data: FilePart
    solution: FilePart

    @property
    def parts(self) -> tuple[FilePart, FilePart]:
        return (self.data, self.solution)

    def mirrored(self, mirror: str) -> PublicDataset:
        """The same dataset served by ``mirror`` (``<mirror>/<Name>.data.zip``)."""
        base = mirror.rstrip("/") + "/"
        return PublicDataset(
            self.name,
            self.domain,
            FilePart(self.data.file_name, base + self.data.file_name, self.data.size,
                     self.data.sha256),
            FilePart(self.solution.file_name, base + self.solution.file_name,
                     self.solution.size, self.solution.sha256),
        )  # fmt: skip


# name, domain, data key, solution key (the server's download ids, from the 2019 kit)
_TABLE = (
    ("Munster", "image",
     "d29000a6-b5b8-4ccf-9050-2686af874a71", "5a24d8f3-dfb6-4935-b798-14baccda695f"),
    ("City", "image",
     "cf0f810e-4818-4c8a-bf48-cbf9b6599928", "c64e3ebb-664f-45f1-8666-1054d262a85c"),
    ("Chucky", "image",
     "cf2176c2-5454-4d07-9c4e-758e3c5bcb31", "ba4837bf-275d-43a6-a481-d03dce7ba127"),
    ("Pedro", "image",
     "d556ca67-01c7-4a8d-9a74-a2bd9c06414d", "9993ea27-955e-4faa-9d28-4a7dfe1fcc55"),
    ("Decal", "image",
     "31a34c03-a75c-4e0f-b72d-3723ba303dac", "cc93c74c-2732-4e7d-ae7f-a2c3bc555360"),
    ("Hammer", "image",
     "3507841e-59fe-4598-a27e-a9e170b26e44", "e5b6188f-a377-4a5d-bbe1-a586716af487"),
    ("Kreatur", "video",
     "c240df57-b144-41df-a059-05bc859d2621", "31ecdb19-c25a-420f-9764-8d1783705deb"),
    ("Kreatur3", "video",
     "08c2afcd-74b1-4c5e-8b93-9f6c9a96add2", "10e04890-f05a-4004-a499-1cc167769edd"),
    ("Katze", "video",
     "611a42fa-da42-4a30-8c7a-69230d9eeb92", "a04de92e-b04b-49a6-96c2-5910c64f9b3c"),
    ("Kraut", "video",
     "a1d9f706-cf8d-4a63-a544-552d6b85d6c4", "47ff016d-cc66-47a9-945d-bc01fd9096c9"),
    ("data01", "speech",
     "c15f1b70-4f07-4e9e-9817-d785b1674966", "358a227e-986d-48ad-a994-70b12a9bfcc3"),
    ("data02", "speech",
     "3961f962-88db-47ee-a756-2152753ba900", "9be871dc-1356-4600-962e-9a43154a1e38"),
    ("data03", "speech",
     "a97ddb39-1470-4a80-81b0-1c26dfa29335", "a6baf245-03a6-42b5-b870-df57e3a27723"),
    ("data04", "speech",
     "c8d15be0-e1fa-4899-940e-0d7e1794a835", "32fd9ca3-865c-4135-a70c-1543160cf6ab"),
    ("data05", "speech",
     "cccc9147-7d1f-4119-888b-1b87f142b721", "4f802113-a899-40a8-b293-e119dd7c54f5"),
    ("O1", "text",
     "4b98c65f-1922-4ff4-8e2a-ab7a022ef1da", "888e1c1c-a39c-40b9-b6f7-cc2eff7a299d"),
    ("O2", "text",
     "f831b0d6-0a53-4c93-b9cf-8cf1f2128d24", "b6513cb2-e4f2-46a8-a7cf-1d8441a00a56"),
    ("O3", "text",
     "4545d366-12f4-442c-87e4-f908fcd79698", "4bb6ebd3-f991-4a6b-8cd1-864a0f3a1abd"),
    ("O4", "text",
     "2bdf5e4e-8d02-4c85-98b2-0b28a6176db9", "e09837eb-8144-4850-ad38-c1ba81426c0b"),
    ("O5", "text",
     "09ec4daf-fba2-41e1-80d0-429772d59d58", "18c8e3eb-2341-41ed-9a44-8d2c94042c30"),
    ("Adult", "tabular",
     "4ad27a85-4932-409b-a33d-a3b1c4ec1893", "c125d32c-3e89-456a-a82d-760fc4b60e4c"),
    ("Dilbert", "tabular",
     "71f517b0-85c2-4a7d-8df3-d2a5998a9d78", "7734cc00-1583-44c8-80f5-156a11b12952"),
    ("Digits", "tabular",
     "03e69995-2b8b-4f60-b43b-4458aa51e9c0", "e29c6cb2-8748-4e26-9c91-66a2b0dd41c2"),
    ("Madeline", "tabular",
     "1d7910ca-ee43-41fc-aca9-0dfcd800d93b", "a86e0e7f-9b07-44f1-92ba-0a5f72cddb6b"),
)  # fmt: skip

PUBLIC_DATASETS: tuple[PublicDataset, ...] = tuple(
    PublicDataset(
        name,
        domain,
        FilePart(f"{name}.data.zip", _BASE + data_key),
        FilePart(f"{name}.solution.zip", _BASE + solution_key),
    )
    for name, domain, data_key, solution_key in _TABLE
)


def names() -> list[str]:
    return [d.name for d in PUBLIC_DATASETS]


def dataset(name: str) -> PublicDataset:
    """The dataset called ``name`` (case-insensitive); KeyError naming the choices."""
    for d in PUBLIC_DATASETS:
        if d.name.lower() == name.lower():
            return d
    raise KeyError(f"no public dataset {name!r} (one of {', '.join(names())})")
