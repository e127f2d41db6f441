"""The demo and benchmark data set generator (`python manage.py generate_dataset`)."""

from recommendations.dataset.service import DatasetError, dataset_generate

__all__ = ["DatasetError", "dataset_generate"]
