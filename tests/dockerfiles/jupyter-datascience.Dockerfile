FROM jupyter/scipy-notebook:2024-05-27

USER root
RUN apt-get update --yes && \
    apt-get install --yes --no-install-recommends graphviz && \
    apt-get clean && rm -rf /var/lib/apt/lists/*

USER ${NB_UID}
RUN pip install --no-cache-dir \
    'polars==1.1.0' \
    'duckdb==1.0.0' \
    "plotly>=5.22"

COPY --chown=${NB_UID}:${NB_GID} notebooks/ /home/jovyan/work/
ENV JUPYTER_ENABLE_LAB=yes
ENTRYPOINT jupyter lab --ip=0.0.0.0 --no-browser --NotebookApp.token=''
