"""Pictures of shapes: sphere-traced fields (INR rows, CSG expressions) and matplotlib renders of meshes.

    images = render_field(field, size=512)                     # uint8 [K, H, W, 3]
    render_grid(dataset, range(16), "grid.png")                 # rows of a weight dataset in one PNG
    render_grid(dataset, range(6), "cmp.png", originals=True)   # sources above their INRs
    comparison_grid([(title, original_mesh, reconstructed_mesh)], "cmp.png")   # matplotlib, meshes
"""

from inrzoo.render.camera import Camera
from inrzoo.render.grid import render_grid, render_originals, render_rows, save_grid
from inrzoo.render.image import Style, render_field
from inrzoo.render.meshes import comparison_grid, draw_mesh, pyplot, save_figure

__all__ = ["Camera", "Style", "comparison_grid", "draw_mesh", "pyplot", "render_field", "render_grid",
           "render_originals", "render_rows", "save_figure", "save_grid"]
