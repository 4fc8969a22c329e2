// The gallery's photos. Generated locally by default, so the demo needs no network; with
// `--picsum` the gallery hands out Picsum URLs instead (and only then talks to anything off this machine).

export type Photo = { id: number; title: string; url: string };

const TITLES = ["Harbour at dawn", "Salt flats", "Pine ridge", "City rain", "Desert bloom", "Glacier lake", "Night market", "Coral reef", "Autumn road", "Lighthouse", "Rice terraces", "Northern lights"];

export function photo(id: number, source: "local" | "picsum"): Photo {
  const title = TITLES[id % TITLES.length]!;
  const url = source === "picsum" ? `https://picsum.photos/seed/tollgate-${id}/480/320` : `data:image/svg+xml;base64,${Buffer.from(svg(id, title)).toString("base64")}`;
  return { id, title, url };
}

/** A landscape-like picture: a sky gradient, a sun and three ridges, all derived from the id. */
function svg(id: number, title: string): string {
  let seed = id * 2654435761 + 1;
  const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const hue = Math.floor(random() * 360);
  const ridges = [0, 1, 2]
    .map((layer) => {
      const base = 170 + layer * 45;
      const points = Array.from({ length: 9 }, (_, i) => `${i * 60},${Math.round(base - random() * 70)}`).join(" ");
      return `<polygon points="0,320 ${points} 480,320" fill="hsl(${(hue + 40 + layer * 25) % 360},45%,${38 - layer * 9}%)"/>`;
    })
    .join("");
  return `<svg xmlns="http://www.w3.org/2000/svg" width="480" height="320" viewBox="0 0 480 320">
<defs><linearGradient id="sky" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="hsl(${hue},70%,72%)"/><stop offset="1" stop-color="hsl(${(hue + 30) % 360},80%,88%)"/></linearGradient></defs>
<rect width="480" height="320" fill="url(#sky)"/><circle cx="${Math.round(80 + random() * 320)}" cy="${Math.round(60 + random() * 60)}" r="28" fill="hsl(${(hue + 180) % 360},90%,85%)"/>${ridges}
<text x="16" y="304" font-family="sans-serif" font-size="16" fill="white">#${id} ${title}</text></svg>`;
}
