"""Small generated tables, image folders and series for the own-data tests."""

import numpy as np


def write_table(path, rows=240, seed=0, rare=5):
    """A fraud-like table: numeric columns (one with missing values), a 3-level and a 14-level
    categorical column, an identifier, and a target 'label' (ok / fraud, plus a rare class)."""
    rng = np.random.default_rng(seed)
    amount = rng.normal(size=rows)
    age = rng.normal(40, 10, size=rows)
    colour = rng.choice(["red", "green", "blue"], size=rows)
    city = rng.choice([f"city{k}" for k in range(14)], size=rows)
    fraud = amount + 1.5 * (colour == "red") > 1.0
    label = np.where(fraud, "fraud", "ok").astype(object)
    label[:rare] = "rare"
    lines = ["customer_id,amount,age,colour,city,label"]
    for i in range(rows):
        age_cell = "" if i % 10 == 3 else f"{age[i]:.1f}"
        lines.append(f"{5000 + 3 * i},{amount[i]:.4f},{age_cell},{colour[i]},{city[i]},"
                     f"{label[i]}")
    path.write_text("\n".join(lines) + "\n")
    return path


def write_series(path, steps=300, gaps=(40, 41, 150)):
    """A weekly series with trend, a 52-week season and noise; some weeks empty, one absent."""
    rng = np.random.default_rng(1)
    t = np.arange(steps)
    values = 0.05 * t + 2 * np.sin(2 * np.pi * t / 52) + rng.normal(0, 0.1, steps)
    start = np.datetime64("2000-01-03")
    lines = ["week,value"]
    for i in t:
        if i == 200:
            continue  # a week absent from the file
        day = str(start + np.timedelta64(7 * int(i), "D")).replace("-", "")
        lines.append(f"{day}," + ("" if i in gaps else f"{values[i]:.4f}"))
    path.write_text("\n".join(lines) + "\n")
    return path


def write_image_folder(root, per_class=16, size=6):
    """Two classes told apart by brightness: 'dark' and 'light' PNGs."""
    from PIL import Image

    rng = np.random.default_rng(2)
    for name, low in (("dark", 0), ("light", 150)):
        (root / name).mkdir(parents=True)
        for index in range(per_class):
            pixels = rng.integers(low, low + 100, (size, size), dtype=np.uint8)
            Image.fromarray(pixels).save(root / name / f"{index}.png")
    return root
