from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "uprtrax.ops"
    label = "ops"
    verbose_name = "Operations"

    def ready(self):
        from uprtrax.ops import logs

        logs.task_request_id_connect()
