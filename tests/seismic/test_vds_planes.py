"""Sections are read through the plane that fits them (OpenVDS's 2D dimension groups), and give exactly the
values of the 3D read and of the SEG-Y the volume was imported from."""

import numpy as np
import openvds
import pytest
import segyio

from seismic import vds


def read_3d(url: str, lo: tuple[int, int, int], hi: tuple[int, int, int]) -> np.ndarray:
    """The same box through the 3D bricks, as the reader did before it chose planes."""
    manager = openvds.getAccessManager(vds._handle(url))
    (il0, xl0, s0), (il1, xl1, s1) = lo, hi
    request = manager.requestVolumeSubset((s0, xl0, il0, 0, 0, 0), (s1, xl1, il1, 1, 1, 1),
                                          dimensionsND=openvds.DimensionsND.Dimensions_012, channel=0,
                                          format=openvds.VolumeDataFormat.Format_R32)
    return np.asarray(request.data, dtype=np.float32).reshape(il1 - il0, xl1 - xl0, s1 - s0)


@pytest.mark.parametrize(("kind", "group"), [("inline", "Dimensions_01"), ("crossline", "Dimensions_02"),
                                             ("timeslice", "Dimensions_12"), ("box", "Dimensions_012")])
def test_each_section_reads_through_its_plane_with_the_3d_values(small_synthetic, kind, group):
    volume, segy_path, vds_path = small_synthetic
    url = str(vds_path)
    geometry = vds.read_geometry(url)
    n_il, n_xl, n_s = geometry.inline.count, geometry.crossline.count, geometry.sample.count
    lo, hi = {"inline": ((7, 0, 0), (8, n_xl, n_s)), "crossline": ((0, 5, 0), (n_il, 6, n_s)),
              "timeslice": ((0, 0, 90), (n_il, n_xl, 91)), "box": ((3, 4, 10), (9, 12, 50))}[kind]
    assert vds._group_for(*(b - a for a, b in zip(lo, hi, strict=True))) == getattr(openvds.DimensionsND, group)
    data = vds.read_subset(url, geometry, lo, hi)
    assert np.array_equal(data, read_3d(url, lo, hi))
    with segyio.open(str(segy_path)) as f:  # inline-sorted: cube[inline, crossline, sample]
        cube = segyio.tools.cube(f)
    assert np.array_equal(data, cube[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]])
