"""One palette for every chart; .streamlit/config.toml mirrors these colours."""

GREEN = "#2E9E5B"
AMBER = "#E8A33D"
RED = "#D64545"
GREY = "#A0A4AB"
PRIMARY = "#3B5BDB"
HUB = "#1F2A44"
TEXT = "#1F2A44"

BAND_COLOURS = {"green": GREEN, "amber": AMBER, "red": RED, "none": GREY}
SERIES = ["#3B5BDB", "#2E9E5B", "#E8A33D", "#D64545", "#7B61FF", "#1C9CB0", "#8C6D3F", "#C2408C"]
