"""The five UN regional groups. The code is UPR Info's short form, as in its `To-Rgrp`/`From-Rgrp` columns."""

AFRICA = "Africa"
ASIA = "Asia"
EEG = "EEG"
GRULAC = "GRULAC"
WEOG = "WEOG"

# (code, name)
REGIONAL_GROUPS: tuple[tuple[str, str], ...] = (
    (AFRICA, "African Group"),
    (ASIA, "Asia-Pacific Group"),
    (EEG, "Eastern European Group"),
    (GRULAC, "Latin American and Caribbean Group"),
    (WEOG, "Western European and other States Group"),
)
