"""One reusable offscreen renderer: vertex-coloured meshes → RGB, depth and mask, plus visibility.

:class:`Renderer` owns a single ``pyrender.OffscreenRenderer`` (EGL; CPU Mesa or a GPU) and a
single scene. Rendering another body with the same triangles only rewrites the vertex buffer
(positions, normals, colours) in place: no new pyrender ``Mesh``/``Primitive``, no new GL
buffers, one colour+depth pass. Use it as a context manager (or call :meth:`Renderer.close`) so
the EGL context is released.

:func:`keypoint_visibility` gives COCO's v from a depth test against the rendered depth.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..camera import Camera
from .lighting import LightSetup

__all__ = ["RenderResult", "Renderer", "composite", "depth_below_surface", "keypoint_visibility"]


def _import_pyrender():
    """pyrender with EGL (headless) and numpy 2's missing ``np.infty``; imported on first use."""
    os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
    if not hasattr(np, "infty"):
        # Not `np.inf = np.inf`: that is what ruff's NPY201 fix makes of it, and a no-op.
        np.infty = np.inf  # noqa: NPY201 - pyrender 0.1.45 uses it in Mesh.bounds / scene.centroid
    import pyrender

    return pyrender


@dataclass
class RenderResult:
    """What :meth:`Renderer.render` returns (the image before any background)."""

    rgb: np.ndarray  # (H, W, 3) uint8, premultiplied by alpha (black where nothing is drawn)
    alpha: np.ndarray  # (H, W) float32 coverage in [0, 1] (anti-aliased edges)
    depth: np.ndarray  # (H, W) float32 metres along the optical axis, 0 = background
    mask: np.ndarray  # (H, W) bool, depth > 0


def composite(result: RenderResult, background: np.ndarray) -> np.ndarray:
    """``(H, W, 3)`` uint8: the render over a background (uint8, or float in [0, 1])."""
    bg = background.astype(np.float32)
    if background.dtype == np.uint8:
        bg /= 255.0
    if bg.shape[:2] != result.alpha.shape:
        raise ValueError(
            f"background is {bg.shape[1]}×{bg.shape[0]} but the render is "
            f"{result.alpha.shape[1]}×{result.alpha.shape[0]} (width×height)"
        )
    out = result.rgb.astype(np.float32) / 255.0 + bg * (1.0 - result.alpha[..., None])
    return np.clip(np.round(out * 255.0), 0, 255).astype(np.uint8)


def keypoint_visibility(
    points_world: Any, camera: Camera, depth: np.ndarray, tol: float | np.ndarray
) -> np.ndarray:
    """COCO v per point: 2 visible, 1 in the image but occluded, 0 outside the image (or behind).

    A point in the image is visible when its depth is at most the rendered depth at its (nearest)
    pixel plus ``tol`` metres, or when nothing was rendered there. ``tol`` is one number or one
    per point. For a point on the skin (anny's face points) a centimetre or so covers the depth
    change across one pixel at grazing angles and stays below the thinnest limb that can cover
    it. Joint keypoints (shoulders, hips, knees, ...) lie *inside* the limb (1-3 cm for an
    infant, up to 8 cm at an adult's hips): add how far the point lies behind its own surface,
    :func:`depth_below_surface`, as :func:`infantpose.render.samples.render_sample` does.
    """
    pixels, z = camera.project(points_world)
    inside = camera.in_image(pixels, z)
    v = np.zeros(len(z), dtype=np.int64)
    cols = np.clip(np.round(pixels[:, 0]).astype(np.int64), 0, camera.width - 1)
    rows = np.clip(np.round(pixels[:, 1]).astype(np.int64), 0, camera.height - 1)
    rendered = depth[rows, cols]
    visible = (rendered <= 0) | (z <= rendered + np.asarray(tol))
    v[inside] = np.where(visible[inside], 2, 1)
    return v


def depth_below_surface(
    points_world: Any,
    vertices: Any,
    faces: Any,
    camera: Camera,
    margin: float,
) -> np.ndarray:
    """How far (metres, along the optical axis) each point lies behind its own surface.

    For a point inside the mesh (a joint inside a limb) it is the distance from the point back
    to where its viewing ray leaves the limb towards the camera: the nearest mesh crossing in
    front of the point, searched among triangles within ``3 × (distance to the nearest vertex)
    + margin`` of the point (a limb's cross-section is not round). 0 for points on or outside
    the surface, or when no crossing is found.
    """
    points = np.asarray(points_world, dtype=np.float64)
    verts = np.asarray(vertices, dtype=np.float64)
    faces = np.asarray(faces)
    cam_v = camera.world_to_camera(verts)
    cam_p = camera.world_to_camera(points)
    uv_v = (cam_v[:, :2] / np.maximum(cam_v[:, 2:], 1e-9)).astype(np.float32)  # normalised image
    uv_p = (cam_p[:, :2] / np.maximum(cam_p[:, 2:], 1e-9)).astype(np.float32)
    p32, v32 = points.astype(np.float32), verts.astype(np.float32)
    d2 = np.zeros((len(points), len(verts)), dtype=np.float32)  # squared distances, (N, V)
    for axis in range(3):  # broadcasting per axis: no BLAS threads, no (N, V, 3) temporary
        d2 += (p32[:, None, axis] - v32[None, :, axis]) ** 2
    radius = 3.0 * np.sqrt(d2.min(axis=1)) + margin
    # Candidate (point, triangle) pairs: the triangle is near the point in 3D and its
    # image-plane box contains the point.
    near_vertex = d2 < (radius**2)[:, None]  # (N, V)
    faces = faces[near_vertex.any(axis=0)[faces].any(axis=1)]
    a, b, c = uv_v[faces[:, 0]], uv_v[faces[:, 1]], uv_v[faces[:, 2]]
    low, high = np.minimum(np.minimum(a, b), c), np.maximum(np.maximum(a, b), c)
    box = (
        (low[None, :, 0] <= uv_p[:, None, 0])
        & (uv_p[:, None, 0] <= high[None, :, 0])
        & (low[None, :, 1] <= uv_p[:, None, 1])
        & (uv_p[:, None, 1] <= high[None, :, 1])
    )
    k, f = np.nonzero(box & (cam_p[:, 2:3] > 0))
    tri = faces[f]
    near = near_vertex[k[:, None], tri].any(axis=1)
    k, tri = k[near], tri[near]
    a, b, c = uv_v[tri[:, 0]], uv_v[tri[:, 1]], uv_v[tri[:, 2]]
    v0, v1, v2 = b - a, c - a, uv_p[k] - a
    den = v0[:, 0] * v1[:, 1] - v1[:, 0] * v0[:, 1]
    ok = np.abs(den) > 1e-12
    den = np.where(ok, den, 1.0)
    w1 = (v2[:, 0] * v1[:, 1] - v1[:, 0] * v2[:, 1]) / den
    w2 = (v0[:, 0] * v2[:, 1] - v2[:, 0] * v0[:, 1]) / den
    w0 = 1.0 - w1 - w2
    hit = ok & (w0 >= 0) & (w1 >= 0) & (w2 >= 0)
    k, tri, w0, w1, w2 = k[hit], tri[hit], w0[hit], w1[hit], w2[hit]
    # Depth along the ray: 1/z is linear in normalised image coordinates.
    z_hit = 1.0 / (w0 / cam_v[tri[:, 0], 2] + w1 / cam_v[tri[:, 1], 2] + w2 / cam_v[tri[:, 2], 2])
    front = z_hit < cam_p[k, 2]
    nearest = np.full(len(points), -np.inf)
    np.maximum.at(nearest, k[front], z_hit[front])  # the nearest crossing in front of each point
    offsets = np.where(np.isfinite(nearest), cam_p[:, 2] - nearest, 0.0)
    return offsets


class Renderer:
    """Renders vertex-coloured triangle meshes offscreen; reuse one for many images.

    >>> with Renderer(384, 288) as renderer:                       # doctest: +SKIP
    ...     result = renderer.render(vertices, faces, colors, camera, lights)
    """

    def __init__(self, width: int, height: int, *, znear: float = 0.01, zfar: float = 100.0):
        pyrender = _import_pyrender()
        self._pyrender = pyrender
        self.width, self.height = int(width), int(height)
        self.znear, self.zfar = znear, zfar
        self._renderer = pyrender.OffscreenRenderer(self.width, self.height)
        self._scene = pyrender.Scene(bg_color=(0.0, 0.0, 0.0, 0.0), ambient_light=(0.3, 0.3, 0.3))
        self._camera_node = self._scene.add(
            pyrender.IntrinsicsCamera(1.0, 1.0, 0.0, 0.0, znear=znear, zfar=zfar)
        )
        self._material = pyrender.MetallicRoughnessMaterial(
            metallicFactor=0.0, roughnessFactor=0.85, baseColorFactor=(1.0, 1.0, 1.0, 1.0)
        )
        self._mesh_node = None
        self._primitive = None
        self._faces: np.ndarray | None = None
        self._face_to_vertex = None
        self._light_nodes: list[Any] = []
        self.rebuilds = 0  # how many times a new GL mesh was made (1 while the faces stay the same)

    # ---- life cycle

    def close(self) -> None:
        """Release the EGL context and GL buffers (safe to call twice)."""
        if self._renderer is not None:
            self._renderer.delete()
            self._renderer = None

    def __enter__(self) -> Renderer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:  # pragma: no cover - best effort at interpreter exit
        try:
            self.close()
        except Exception:
            pass

    # ---- mesh

    def _normals(self, vertices: np.ndarray) -> np.ndarray:
        faces = self._faces
        face_normals = np.cross(
            vertices[faces[:, 1]] - vertices[faces[:, 0]],
            vertices[faces[:, 2]] - vertices[faces[:, 0]],
        )
        normals = self._face_to_vertex @ face_normals  # area-weighted sum over adjacent faces
        length = np.linalg.norm(normals, axis=1, keepdims=True)
        return normals / np.maximum(length, 1e-12)

    def _set_mesh(self, vertices: np.ndarray, faces: np.ndarray, colors: np.ndarray) -> None:
        from OpenGL.GL import GL_ARRAY_BUFFER, glBindBuffer, glBufferSubData

        pyrender = self._pyrender
        same = (
            self._faces is not None
            and self._faces.shape == faces.shape
            and (self._faces is faces or np.array_equal(self._faces, faces))
        )
        if not same:
            import scipy.sparse

            self._faces = np.array(faces, dtype=np.int64)
            n_faces, n_vertices = len(faces), len(vertices)
            self._face_to_vertex = scipy.sparse.csr_matrix(
                (
                    np.ones(3 * n_faces, dtype=np.float32),
                    (self._faces.ravel(), np.repeat(np.arange(n_faces), 3)),
                ),
                shape=(n_vertices, n_faces),
            )
        normals = self._normals(vertices)
        # pyrender multiplies the shaded linear colour by the vertex colour and applies a 1/2.2
        # gamma at the end: give it linear colours so sRGB inputs come out as themselves.
        linear = np.power(np.clip(colors[:, :3], 0.0, 1.0), 2.2)
        rgba = np.concatenate([linear, np.ones((len(linear), 1))], axis=1)
        if not same:
            if self._mesh_node is not None:
                self._scene.remove_node(self._mesh_node)
            self._primitive = pyrender.Primitive(
                positions=vertices,
                normals=normals,
                color_0=rgba,
                indices=self._faces,
                material=self._material,
                mode=pyrender.GLTF.TRIANGLES,
            )
            self._mesh_node = self._scene.add(pyrender.Mesh([self._primitive]))
            self.rebuilds += 1
            return
        data = np.ascontiguousarray(np.hstack([vertices, normals, rgba]), dtype=np.float32)
        primitive = self._primitive
        if primitive._in_context():  # already uploaded: overwrite the vertex buffer in place
            self._renderer._platform.make_current()
            glBindBuffer(GL_ARRAY_BUFFER, primitive._buffers[0])
            glBufferSubData(GL_ARRAY_BUFFER, 0, data.nbytes, data)
            glBindBuffer(GL_ARRAY_BUFFER, 0)
        # Keep the Python-side copy in step too (bounds, a later re-upload).
        primitive._positions = data[:, :3]
        primitive._normals = data[:, 3:6]
        primitive._color_0 = data[:, 6:]
        primitive._bounds = None

    # ---- lights and camera

    def _set_lights(self, lights: LightSetup | None, camera: Camera) -> None:
        pyrender = self._pyrender
        for node in self._light_nodes:
            self._scene.remove_node(node)
        self._light_nodes = []
        if lights is None:
            from .lighting import Light

            lights = LightSetup("default", (Light((0.0, 0.0, 1.0)),), (0.3, 0.3, 0.3))
        self._scene.ambient_light = np.asarray(lights.ambient, dtype=np.float64)
        for light in lights.lights:
            # The light's -z axis shines along its direction; build that frame in world axes.
            direction_world = camera.R.T @ np.asarray(light.direction, dtype=np.float64)
            z = -direction_world / np.linalg.norm(direction_world)
            helper = np.array([0.0, 1.0, 0.0]) if abs(z[1]) < 0.9 else np.array([1.0, 0.0, 0.0])
            x = np.cross(helper, z)
            x /= np.linalg.norm(x)
            pose = np.eye(4)
            pose[:3, :3] = np.stack([x, np.cross(z, x), z], axis=1)
            node = self._scene.add(
                pyrender.DirectionalLight(color=light.color, intensity=light.intensity), pose=pose
            )
            self._light_nodes.append(node)

    def _set_camera(self, camera: Camera) -> None:
        if (camera.width, camera.height) != (self.width, self.height):
            raise ValueError(
                f"the camera is {camera.width}×{camera.height} but this Renderer renders "
                f"{self.width}×{self.height} (width×height); make a Renderer of the camera's size"
            )
        gl_camera = self._camera_node.camera
        # OpenGL samples pixel centres at +0.5 (see infantpose.camera).
        gl_camera.fx, gl_camera.fy = camera.fx, camera.fy
        gl_camera.cx, gl_camera.cy = camera.cx + 0.5, camera.cy + 0.5
        self._scene.set_pose(self._camera_node, camera.opengl_pose())

    # ---- render

    def render(
        self,
        vertices: Any,
        faces: Any,
        colors: Any,
        camera: Camera,
        lights: LightSetup | None = None,
    ) -> RenderResult:
        """Render one mesh: ``vertices`` (V, 3) world metres, ``faces`` (F, 3), ``colors`` (V, 3)
        sRGB in [0, 1] (uint8 0-255 also accepted)."""
        if self._renderer is None:
            raise RuntimeError("this Renderer is closed; make a new one")
        vertices = np.asarray(vertices, dtype=np.float32)
        faces = np.asarray(faces)
        colors = np.asarray(colors)
        if colors.dtype == np.uint8:
            colors = colors.astype(np.float32) / 255.0
        if vertices.ndim != 2 or vertices.shape[1] != 3 or colors.shape[0] != len(vertices):
            raise ValueError(
                f"render: vertices {vertices.shape} and colors {colors.shape} must be (V, 3) "
                "for the same V (one body; loop over a batch)"
            )
        self._set_camera(camera)
        self._set_mesh(vertices, faces, colors)
        self._set_lights(lights, camera)
        # Back faces are culled (body meshes are closed and wound outwards): twice as fast on
        # CPU Mesa as drawing both sides.
        flags = self._pyrender.RenderFlags.RGBA
        rgba, depth = self._renderer.render(self._scene, flags=flags)
        alpha = rgba[..., 3].astype(np.float32) / 255.0
        depth = np.ascontiguousarray(depth, dtype=np.float32)
        return RenderResult(
            rgb=np.ascontiguousarray(rgba[..., :3]), alpha=alpha, depth=depth, mask=depth > 0
        )
