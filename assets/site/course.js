// The course site's own script (course_lib.site copies this into _static/): a figure opens at its full
// size on a click (a wide figure is shrunk to the column), and closes on a click or Escape.
document.addEventListener("DOMContentLoaded", () => {
  const close = () => document.querySelectorAll(".course-zoom").forEach((z) => z.remove());
  document.querySelectorAll(".cell_output img, img.course-figure").forEach((img) => {
    img.setAttribute("title", (img.getAttribute("alt") || "figure") + " (click to enlarge)");
    img.addEventListener("click", () => {
      const layer = document.createElement("div");
      layer.className = "course-zoom";
      const big = document.createElement("img");
      big.src = img.src;
      big.alt = img.alt;
      layer.appendChild(big);
      layer.addEventListener("click", close);
      document.body.appendChild(layer);
    });
  });
  document.addEventListener("keydown", (e) => { if (e.key === "Escape") close(); });
});
